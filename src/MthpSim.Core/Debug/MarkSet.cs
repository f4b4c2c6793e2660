namespace MthpSim.Core.Debug;

/// <summary>
/// A set of small non-negative integers (PFNs, swap slots) that the checker empties after every
/// check: one mark per member in an array reused from check to check, so that emptying it costs
/// nothing and a lookup is one array read, where a hash set hashed every member of every check.
/// </summary>
internal sealed class MarkSet
{
    int[] _marks = [];
    int _mark = 1;

    /// <summary>Members added since the last <see cref="Clear"/>.</summary>
    public int Count { get; private set; }

    /// <summary>Empties the set.</summary>
    public void Clear()
    {
        Count = 0;
        if (++_mark != int.MaxValue) return;
        Array.Clear(_marks);
        _mark = 1;
    }

    /// <summary>Adds <paramref name="i"/>; false if it was a member already.</summary>
    public bool Add(int i)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(i);
        if (i >= _marks.Length) Array.Resize(ref _marks, Math.Max(i + 1, 2 * _marks.Length));
        if (_marks[i] == _mark) return false;
        _marks[i] = _mark;
        Count++;
        return true;
    }

    public bool Contains(int i) => (uint)i < (uint)_marks.Length && _marks[i] == _mark;
}
