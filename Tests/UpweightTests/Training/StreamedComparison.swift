import XCTest
@testable import Upweight
@testable import UpweightTraining

/// What the streamed-against-in-memory tests read from a finished run.
extension TrainingSession.Finished {
    /// `key` of config.json's "result" (the fit's details).
    func result(_ key: String) -> JSONValue? {
        guard case .object(let result)? = trained.provenance["result"] else { return nil }
        return result[key]
    }

    /// The objective the run recorded (NaN when it recorded none).
    var recordedObjective: Double { result("objective")?.numberValue ?? .nan }

    /// A linear model's θ (fails the test for another model).
    var linearTheta: [Double] {
        guard case .linear(let model) = trained.model else { XCTFail("expected a linear model"); return [] }
        return model.weight.map(Double.init)
    }
}

/// The same linear optimum as the in-memory run: the objective to 1e-9 relative, θ to 1e-6.
func assertSameLinearOptimum(_ streamed: TrainingSession.Finished, _ inMemory: TrainingSession.Finished, _ message: String = "",
                             file: StaticString = #filePath, line: UInt = #line) {
    let (objective, reference) = (streamed.recordedObjective, inMemory.recordedObjective)
    XCTAssertEqual(abs(objective - reference) / reference, 0, accuracy: 1e-9, message, file: file, line: line)
    XCTAssertLessThan(relativeDistance(streamed.linearTheta, inMemory.linearTheta), 1e-6, message, file: file, line: line)
}
