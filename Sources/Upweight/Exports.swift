// The public façade: `import Upweight` gives a user every layer's public API, as `import NIO` does.
@_exported import UpweightSupport
@_exported import UpweightIO
@_exported import UpweightData
@_exported import UpweightModels
@_exported import UpweightWeighting
@_exported import UpweightEvaluation
@_exported import UpweightTraining
@_exported import UpweightTuning
