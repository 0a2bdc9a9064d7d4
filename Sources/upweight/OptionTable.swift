import ArgumentParser
import Upweight

// The flags of `TrainingOption`'s table. Each `@Option` takes its name and help from its table
// entry (`name: .key(.l2), help: .option(.l2)`) and is named as its key in camelCase (`group-dro` →
// `groupDro`); the flags given reach `TrainingConfiguration.apply` as config keys through one path
// (`OptionTableFlags.settings`), so flags and config files are checked by the same parser and
// refused in the same words (`--l2: expected a number ≥ 0, got -1`).

extension NameSpecification {
    /// The table option's key as the flag's long name.
    static func key(_ option: TrainingOption) -> NameSpecification { .customLong(option.key) }
}

extension ArgumentHelp {
    /// The table option's help.
    static func option(_ option: TrainingOption) -> ArgumentHelp { ArgumentHelp(option.help) }
}

/// A flag's value as a config file holds it.
protocol ConfigArgument { var configValue: JSONValue { get } }

extension Double: ConfigArgument { var configValue: JSONValue { .number(self) } }
extension Int: ConfigArgument { var configValue: JSONValue { JSONValue(self) } }
extension String: ConfigArgument { var configValue: JSONValue { .string(self) } }
extension ConfigArgument where Self: RawRepresentable, RawValue == String {
    var configValue: JSONValue { .string(rawValue) }
}

// Closed choices: `--help` lists their values.
extension ModelKind: ExpressibleByArgument, ConfigArgument {}
extension OptimizerKind: ExpressibleByArgument, ConfigArgument {}
extension Activation: ExpressibleByArgument, ConfigArgument {}
extension MLPRewardModel.Initialization: ExpressibleByArgument, ConfigArgument {}
extension LearningRateSchedule.Decay: ExpressibleByArgument, ConfigArgument {}
extension WeightNormalization: ExpressibleByArgument, ConfigArgument {}
extension WeightMode: ExpressibleByArgument, ConfigArgument {}
extension NoiseAwareMode: ExpressibleByArgument, ConfigArgument {}
extension ShapeChoice: ExpressibleByArgument, ConfigArgument {}
extension ErrorPolicy: ConfigArgument {}

/// `--seed` in every command (train, tune, eval, compare, synth): the library's `UInt64` seed,
/// checked as the table checks `seed`. It is read as any whole number, so that `--seed -1` is
/// refused in the flag's own words (`--seed: expected a whole number ≥ 0, got -1`), not as a value
/// the parser cannot read.
struct Seed: ExpressibleByArgument, ConfigArgument {
    private let typed: Int

    init(_ value: Int) { typed = value }
    init?(argument: String) {
        guard let value = Int(argument) else { return nil }
        typed = value
    }

    var defaultValueDescription: String { String(typed) }
    var configValue: JSONValue { JSONValue(typed) }

    /// The seed, or the table's error for it.
    func value() throws -> UInt64 {
        var configuration = TrainingConfiguration()
        try configuration.apply(JSONObject([(TrainingOption.seed.key, configValue)]), from: .commandLine)
        return configuration.seed
    }
}

/// A property of an option group that holds a table option: the config value of its flag, if given.
protocol GivenFlag { var given: JSONValue? { get } }
protocol OptionalConfigArgument { var given: JSONValue? { get } }

extension Optional: OptionalConfigArgument where Wrapped: ConfigArgument { var given: JSONValue? { map(\.configValue) } }
/// A repeatable flag (`--eval a --eval b`, `--upweight safety=3`): given when repeated at least once.
extension Array: OptionalConfigArgument where Element: ConfigArgument {
    var given: JSONValue? { isEmpty ? nil : .array(map(\.configValue)) }
}
extension Option: GivenFlag where Value: OptionalConfigArgument { var given: JSONValue? { wrappedValue.given } }
extension Flag: GivenFlag where Value == Bool { var given: JSONValue? { wrappedValue ? .bool(true) : nil } }

/// An option group whose every property is a table option named as its key in camelCase.
protocol OptionTableFlags: ParsableArguments {}

extension OptionTableFlags {
    /// The flags given, as config keys.
    var settings: JSONObject {
        var object = JSONObject()
        for child in Mirror(reflecting: self).children {
            let property = String((child.label ?? "").drop { $0 == "_" })
            let key = property.reduce(into: "") { key, character in
                key += character.isUppercase ? "-" + character.lowercased() : String(character)
            }
            guard let flag = child.value as? any GivenFlag, let option = TrainingOption.named(key) else {
                preconditionFailure("\(Self.self).\(property) is not the flag of a TrainingOption")
            }
            if let value = flag.given { object[option.key] = value }
        }
        return object
    }
}

/// The flags given in `groups`, as config keys (a later group's key wins; none repeats a key).
func givenSettings(_ groups: [any OptionTableFlags]) -> JSONObject {
    var object = JSONObject()
    for group in groups {
        for (key, value) in group.settings.members { object[key] = value }
    }
    return object
}
