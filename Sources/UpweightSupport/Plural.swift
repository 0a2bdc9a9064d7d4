/// "1 category", "3 categories": a count with its noun in the right number. English only needs
/// both forms spelled out (category/categories, pair/pairs), so the caller gives both.
public func plural<Count: BinaryInteger>(_ count: Count, _ singular: String, _ plural: String) -> String {
    "\(count) \(count == 1 ? singular : plural)"
}
