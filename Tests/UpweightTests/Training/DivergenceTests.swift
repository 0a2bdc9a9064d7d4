import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightWeighting
@testable import UpweightEvaluation
@testable import UpweightTraining

/// Degenerate training is an error (exit 70) and writes nothing; weights and group DRO that finite
/// input could overflow are computed in scaled form.
final class DivergenceTests: XCTestCase {
    func test_an_mlp_at_learning_rate_1e12_is_an_error_and_saves_nothing() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let run = try TestSupport.run(["train", TestSupport.fixture("linear-dense/train.jsonl"), "--model", "mlp", "--hidden", "32",
                                       "--optimizer", "adamw", "--learning-rate", "1e12", "--epochs", "2", "--out", "\(directory)/model"])
        XCTAssertEqual(run.status, 70)
        XCTAssertTrue(run.stderr.contains("upweight: training diverged at epoch 1: the training loss "), run.stderr)
        XCTAssertTrue(run.stderr.hasSuffix("The learning rate (1000000000000) is probably too high: try --learning-rate 100000000000, or raise --l2\n"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/model"))
    }

    func test_the_loss_growing_100_fold_or_rewards_dying_is_divergence() {
        var configuration = TrainingConfiguration()
        configuration.optimizer = .adamw
        let adamw = Divergence(configuration)
        XCTAssertNoThrow(try adamw.check(loss: 69, initialLoss: 0.7, parametersFinite: true, at: "epoch 2"))
        XCTAssertThrowsError(try adamw.check(loss: 71, initialLoss: 0.7, parametersFinite: true, at: "epoch 2")) { error in
            XCTAssertEqual((error as? TrainingError)?.message, "training diverged at epoch 2: the training loss 71.0 is more than 100× the initial 0.7. The learning rate (0.001) is probably too high: try --learning-rate 0.0001, or raise --l2")
        }
        XCTAssertNoThrow(try adamw.checkRewards(initial: [1, 1], final: [2, 2], at: "the end of training"))
        XCTAssertThrowsError(try adamw.checkRewards(initial: [1, 2], final: [0, 0], at: "the end of training")) { error in
            XCTAssertEqual((error as? TrainingError)?.message, "training diverged at the end of training: every reward is 0.0 while the initial model's differed (its units died). The learning rate (0.001) is probably too high: try --learning-rate 0.0001, or raise --l2")
        }
    }

    func test_lbfgs_advice_names_l2_and_the_features_not_a_learning_rate() {
        let lbfgs = Divergence(TrainingConfiguration())
        XCTAssertThrowsError(try lbfgs.check(loss: .nan, initialLoss: 0.7, parametersFinite: true, at: "the end of training")) { error in
            XCTAssertEqual((error as? TrainingError)?.message, "training diverged at the end of training: the loss or a parameter is not finite. L-BFGS has no learning rate: raise --l2 (now 0.0001), or standardize the features (--standardize) or scale them down")
        }
    }

    /// Two weights of 1e308 sum to infinity; normalized they are 1 each, and shares are 50%.
    func test_weights_of_1e308_train_normally() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = TestSupport.write("""
            {"chosen":"good answer","rejected":"bad answer","category":"a","weight":1e308}
            {"chosen":"nice one","rejected":"awful one","category":"b","weight":1e308}

            """, "w.jsonl", in: directory)
        let dataset = try TestSupport.read(paths: [data])
        XCTAssertEqual(try WeightingConfiguration().weights(for: dataset), [1, 1])
        let summary = WeightSummary(dataset: dataset, weights: [1e308, 1e308])
        XCTAssertEqual(summary.categories.map(\.shareBefore), [0.5, 0.5])
        XCTAssertEqual(summary.effectiveSampleSize, 2)
        XCTAssertEqual(DatasetStatistics(dataset).categories.map(\.meanExampleWeight), [1e308, 1e308])
        let run = try TestSupport.run(["train", data, "--out", "\(directory)/model"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("a               1         50.0%        50.0%"), run.stderr)
        var unnormalized = WeightingConfiguration()
        unnormalized.normalize = false
        XCTAssertThrowsError(try unnormalized.weights(for: dataset)) { error in
            XCTAssertEqual((error as? UsageError)?.message, "the training weights sum to more than 1.7976931348623157e+308 with --normalize none; normalize them (--normalize mean) or use smaller weights")
        }
        var upweighted = WeightingConfiguration()
        upweighted.upweight = ["a": 10]
        XCTAssertThrowsError(try upweighted.weights(for: dataset)) { error in
            XCTAssertEqual((error as? DataError)?.description, "\(data):1:1: the weight 1e+308 times its category's factor 10.0 is not finite; use smaller weights or factors")
        }
    }

    func test_group_dro_step_sizes_are_bounded_and_its_update_never_overflows() throws {
        let run = try TestSupport.run(["train", TestSupport.fixture("linear-dense/train.jsonl"), "--group-dro", "1e308"])
        XCTAssertEqual(run.status, 64)
        XCTAssertEqual(run.stderr, "upweight: --group-dro: expected a number from 0 to 1e6, got 1e308\n")
        var dro = GroupDRO(stepSize: 1e6, adjustment: 1e6, counts: [3, 5, 0])
        dro.update(categoryLosses: [800, 700, nil])
        XCTAssertEqual(dro.groupWeights, [1, 0, 0])
        dro.update(categoryLosses: [0.5, 0.6, nil])
        XCTAssertTrue(dro.groupWeights.allSatisfy(\.isFinite), "\(dro.groupWeights)")
        XCTAssertEqual(dro.groupWeights.reduce(0, +), 1, accuracy: 1e-12)
    }
    func test_divergence_stops_with_the_epoch_step_and_advice_and_writes_nothing() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let run = try TestSupport.run(["train", TestSupport.fixture("linear-dense/train.jsonl"), "--optimizer", "adamw",
                                       "--learning-rate", "1e300", "--epochs", "2", "--out", "\(directory)/model"])
        XCTAssertEqual(run.status, 70)
        XCTAssertTrue(run.stderr.contains("upweight: training diverged at epoch 1, step 2: the loss or a parameter is not finite. The learning rate (1e+300) is probably too high: try --learning-rate 1e+299, or raise --l2"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/model"))
    }

}
