using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace MthpSim.Scenario.Syntax;

/// <summary>
/// Turns the bytes of a scenario file into text. A scenario is UTF-8; a byte sequence that is not
/// is an error at its line and column (with its byte offset), never replaced by U+FFFD, which would
/// let two different byte strings read as the same word.
/// </summary>
public static class SourceText
{
    public static string? Decode(string file, ReadOnlySpan<byte> bytes, out Diagnostic? error)
    {
        error = null;
        if (Utf8.IsValid(bytes)) return Encoding.UTF8.GetString(bytes);
        int line = 1, column = 1;
        for (int offset = 0; offset < bytes.Length;)
        {
            var status = Rune.DecodeFromUtf8(bytes[offset..], out var rune, out int length);
            if (status != System.Buffers.OperationStatus.Done)
            {
                var shown = string.Concat(bytes.Slice(offset, length).ToArray().Select(b => $@"\x{b:x2}"));
                error = new Diagnostic(file, line, column, string.Create(CultureInfo.InvariantCulture,
                    $"invalid UTF-8 {(length == 1 ? "byte" : "bytes")} {shown} at byte offset {offset} (a scenario file is UTF-8 text)"));
                return null;
            }
            offset += length;
            // Columns count UTF-16 characters after a byte order mark, as the lexer does.
            if (rune.Value == '\n') { line++; column = 1; }
            else if (!(rune.Value == 0xFEFF && offset == length)) column += rune.Utf16SequenceLength;
        }
        // Utf8.IsValid and the loop agree; not reached.
        return Encoding.UTF8.GetString(bytes);
    }
}
