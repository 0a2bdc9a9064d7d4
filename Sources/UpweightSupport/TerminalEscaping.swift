/// `text` safe to print on a terminal: every control character is shown instead of obeyed, so a
/// category named `"\u{1B}]0;pwned\u{7}"` cannot retitle or clear the terminal, and a newline in a
/// name cannot forge a table row or a message line. ESC, LF, CR and TAB become `\e`, `\n`, `\r`,
/// `\t`; the other C0 controls, DEL, the C1 controls and the bidirectional overrides (which can
/// reorder what a line appears to say) become `\u{XX}`. Everything else, backslashes included, is
/// left as it is, so escaping twice changes nothing.
///
/// Text from data (categories, ids, field values, names from files) passes through here before it
/// reaches a terminal or stderr; JSON, CSV and HTML output use their own escaping instead.
public func terminalEscaped(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: needsEscaping) else { return text }
    var output = ""
    output.reserveCapacity(text.utf8.count + 8)
    for scalar in text.unicodeScalars {
        guard needsEscaping(scalar) else {
            output.unicodeScalars.append(scalar)
            continue
        }
        switch scalar {
        case "\u{1B}": output += "\\e"
        case "\n": output += "\\n"
        case "\r": output += "\\r"
        case "\t": output += "\\t"
        default: output += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        }
    }
    return output
}

private func needsEscaping(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x00...0x1F, 0x7F...0x9F: return true  // C0, DEL, C1
    case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true  // bidirectional marks and overrides
    case 0x2028, 0x2029: return true  // line and paragraph separators
    default: return false
    }
}
