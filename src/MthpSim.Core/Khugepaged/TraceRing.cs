using System.Collections;

namespace MthpSim.Core.Khugepaged;

/// <summary>
/// A bounded trace buffer, as the kernel's ring buffer under tracefs: once full, each new event
/// overwrites the oldest, so host memory stays fixed however long the simulation runs.
/// Enumerates oldest first.
/// </summary>
public sealed class TraceRing<T> : IReadOnlyList<T>
{
    T[] _events = [];
    int _start, _count;

    public TraceRing(int capacity) => Capacity = capacity;

    /// <summary>How many events the buffer keeps (the kernel's buffer_size_kb, counted in events); 0 turns tracing off.</summary>
    public int Capacity
    {
        get;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            var kept = this.Skip(Math.Max(0, _count - value)).ToArray();
            field = value;
            _events = new T[Math.Min(value, Math.Max(kept.Length, 16))];
            kept.CopyTo(_events, 0);
            Overwritten += _count - kept.Length;
            _start = 0;
            _count = kept.Length;
        }
    }

    /// <summary>Events lost to overwriting since the machine started.</summary>
    public long Overwritten { get; private set; }

    public int Count => _count;

    public T this[int index] => (uint)index < (uint)_count
        ? _events[(_start + index) % _events.Length]
        : throw new ArgumentOutOfRangeException(nameof(index));

    public void Add(T e)
    {
        if (Capacity == 0) { Overwritten++; return; }
        if (_count == _events.Length && _events.Length < Capacity)
            Array.Resize(ref _events, Math.Min(Capacity, _events.Length * 2));
        if (_count < _events.Length)
        {
            _events[(_start + _count) % _events.Length] = e;
            _count++;
            return;
        }
        _events[_start] = e;
        _start = (_start + 1) % _events.Length;
        Overwritten++;
    }

    public IEnumerator<T> GetEnumerator()
    {
        for (int i = 0; i < _count; i++) yield return _events[(_start + i) % _events.Length];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
