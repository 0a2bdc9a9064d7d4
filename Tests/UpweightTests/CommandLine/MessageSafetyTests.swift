import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightEvaluation

/// Text from data reaches the terminal shown, never obeyed; numbers on the command line may be
/// negative and are refused in each flag's own words.
final class MessageSafetyTests: XCTestCase {
    /// Retitles the terminal and clears the screen when printed raw.
    static let hostile = "\u{1B}]0;pwned\u{7}\u{1B}[2J"
    static let hostileShown = #"\e]0;pwned\u{7}\e[2J"#
    /// Would forge a table row when printed raw.
    static let forger = "a\nforged  9  1.000"
    static let forgerShown = #"a\nforged  9  1.000"#

    func test_control_characters_are_shown_escaped() {
        XCTAssertEqual(terminalEscaped(Self.hostile), Self.hostileShown)
        XCTAssertEqual(terminalEscaped("a\nb\r\tc\u{0}\u{7F}\u{9B}\u{202E}d\u{2028}"), #"a\nb\r\tc\u{0}\u{7F}\u{9B}\u{202E}d\u{2028}"#)
        XCTAssertEqual(terminalEscaped("\r\n"), #"\r\n"#, "a CRLF is two characters to escape, not one")
        XCTAssertEqual(terminalEscaped(#"plain é 数 C:\path"#), #"plain é 数 C:\path"#, "printable text and backslashes are left alone")
        XCTAssertEqual(terminalEscaped(terminalEscaped(Self.hostile)), Self.hostileShown, "escaping twice changes nothing")
    }

    /// JSON, CSV, HTML and Markdown keep their own escaping; JSON also escapes DEL and C1.
    func test_machine_formats_escape_by_their_own_rules() {
        XCTAssertEqual(JSONValue.string("\u{1B}\u{7F}\u{9B}\u{2028}\n").compactText, #""\u001b\u007f\u009b\u2028\n""#)
        XCTAssertEqual(csvQuoted("a,b"), #""a,b""#)
        XCTAssertEqual(csvQuoted("say \"hi\""), #""say ""hi""""#)
        XCTAssertEqual(csvQuoted("two\nlines"), "\"two\nlines\"")
        XCTAssertEqual(csvQuoted("cr\r"), "\"cr\r\"")
        XCTAssertEqual(csvQuoted("plain"), "plain")
        XCTAssertEqual(htmlEscaped(#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;")
        XCTAssertEqual(markdownEscaped("a\nb|\u{1B}"), #"a\\nb\|\\e"#)
    }

    func test_stats_and_the_report_table_show_hostile_categories_escaped() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = TestSupport.write(hostileData(), "data.jsonl", in: directory)
        let stats = try TestSupport.run(["stats", data])
        XCTAssertEqual(stats.status, 0, stats.stderr)
        XCTAssertFalse(stats.stdout.contains("\u{1B}") || stats.stdout.contains("\u{7}"), stats.stdout)
        let lines = stats.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 6, "header, three categories, summary, final newline: \(stats.stdout)")
        XCTAssertTrue(lines[1].hasPrefix(Self.hostileShown), String(lines[1]))
        XCTAssertTrue(lines[2].hasPrefix(Self.forgerShown), String(lines[2]))

        let train = try TestSupport.run(["train", data])
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertFalse(train.stdout.contains("\u{1B}") || train.stdout.contains("\u{7}"), train.stdout)
        let rows = train.stdout.split(separator: "\n")
        XCTAssertTrue(rows.contains { $0.hasPrefix(Self.hostileShown + "  ") }, train.stdout)
        XCTAssertTrue(rows.contains { $0.hasPrefix(Self.forgerShown + "  ") }, train.stdout)
        XCTAssertFalse(rows.contains { $0.hasPrefix("forged") }, "no forged row: \(train.stdout)")
        XCTAssertEqual(Set(rows.prefix(6).map(\.count)).count, 1, "the columns stay aligned: \(train.stdout)")
    }

    func test_errors_quoting_categories_escape_them() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = TestSupport.write(hostileData(), "data.jsonl", in: directory)
        let run = try TestSupport.run(["train", data, "--upweight", "missing=2"])
        XCTAssertEqual(run.status, 64)
        XCTAssertEqual(run.stderr.split(separator: "\n").last.map(String.init), "upweight: --upweight names category \"missing\", which is not in the training data "
                       + "(its categories: \"\(Self.hostileShown)\", \"\(Self.forgerShown)\", \"plain\")")
        XCTAssertFalse(run.stderr.contains("\u{1B}"), run.stderr)
    }

    func test_negative_numbers_are_values_refused_in_each_flags_words() throws {
        let data = TestSupport.fixture("linear-dense/train.jsonl")
        let cases: [([String], String)] = [
            (["train", data, "--l2", "-1"], "--l2: expected a number ≥ 0, got -1"),
            (["train", data, "--learning-rate", "-0.5"], "--learning-rate: expected a number > 0, got -0.5"),
            (["train", data, "--learning-rate", "-inf"], "--learning-rate: expected a number > 0, got -inf"),
            (["train", data, "--epochs", "-3"], "--epochs: expected a whole number from 1 to 1000000, got -3"),
            (["train", data, "--seed", "-1"], "--seed: expected a whole number ≥ 0, got -1"),
            (["train", data, "--holdout", "-0.2"], "--holdout: expected a number ≥ 0 and < 1, got -0.2"),
            (["train", data, "--clip-weights", "-1,2"], "--clip-weights: expected LO,HI with 0 ≤ LO ≤ HI, got \"-1,2\""),
            (["train", data, "--threads", "-2"], "--threads: expected a whole number from 1 to 1024, got -2"),
            (["stats", data, "--threads", "-2"], "--threads: expected a whole number from 1 to 1024, got -2"),
            (["eval", "model", data, "--seed", "-1"], "--seed: expected a whole number ≥ 0, got -1"),
            (["eval", "model", data, "--bootstrap", "-5"], "--bootstrap: expected a whole number from 0 to 1000000, got -5"),
            (["synth", "--out", "x.jsonl", "--n", "-5"], "--n: expected a whole number from 1 to 10000000, got -5"),
            (["synth", "--out", "x.jsonl", "--noise", "-1"], "--noise: expected a number > 0, got -1"),
            (["synth", "--out", "x.jsonl", "--seed", "-7"], "--seed: expected a whole number ≥ 0, got -7"),
            (["synth", "--out", "x.jsonl", "--label-flip", "-0.1"], "--label-flip: expected a number ≥ 0 and < 1, got -0.1"),
            (["synth", "--out", "x.jsonl", "--dim", "65536", "--n", "10000"],
             "--n × --dim: expected at most 100000000 numbers per side, got 10000 × 65536"),
        ]
        for (arguments, message) in cases {
            let run = try TestSupport.run(arguments)
            XCTAssertEqual(run.status, 64, arguments.joined(separator: " "))
            XCTAssertEqual(run.stderr, "upweight: \(message)\n", arguments.joined(separator: " "))
        }
    }

    /// Three categories: one that would drive the terminal, one that would forge a row, one plain.
    private func hostileData() -> String {
        var lines = ""
        for (index, category) in [Self.hostile, Self.forger, "plain"].enumerated() {
            for pair in 0..<4 {
                let name = JSONValue.string(category).compactText
                lines += "{\"prompt\":\"q\(pair)\",\"chosen\":\"good \(pair) \(index)\",\"rejected\":\"bad \(pair)\",\"category\":\(name)}\n"
            }
        }
        return lines
    }
}
