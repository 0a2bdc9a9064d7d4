/// Non-negative `Int32`s in ascending order, by a least-significant-digit radix sort: one counting
/// pass per 11-bit digit the largest value has (two for the 2^18 rows of a hashed W₁). A step's
/// ~20k touched rows took `sorted()` a twelfth of a hashed-text step; this is linear in the count.
package func radixSorted(_ values: [Int32]) -> [Int32] {
    guard values.count >= 256, let largest = values.max() else { return values.sorted() }
    precondition(values.allSatisfy { $0 >= 0 }, "radixSorted takes non-negative values")
    let digitBits: Int32 = 11, digitMask: Int32 = (1 << 11) - 1
    var source = values
    var target = values
    var starts = [Int](repeating: 0, count: 1 << 11)
    var shift: Int32 = 0
    while shift < 31 && largest >> shift > 0 {
        // Where each digit's values start in `target`, then the values in order, stably.
        for digit in starts.indices { starts[digit] = 0 }
        for value in source { starts[Int((value >> shift) & digitMask)] += 1 }
        var total = 0
        for digit in starts.indices { (starts[digit], total) = (total, total + starts[digit]) }
        for value in source {
            let digit = Int((value >> shift) & digitMask)
            target[starts[digit]] = value
            starts[digit] += 1
        }
        swap(&source, &target)
        shift += digitBits
    }
    return source
}
