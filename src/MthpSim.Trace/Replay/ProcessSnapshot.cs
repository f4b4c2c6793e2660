namespace MthpSim.Trace.Replay;

/// <summary>A process of the replay as it was when its last thread exited (or when the trace ended).</summary>
public sealed record ProcessSnapshot(
    int Pid,
    string Comm,
    string? Exe,
    long TimeNs,
    bool Exited,
    long TraceFaults,
    long MinFlt,
    long MajFlt,
    long RssAnonKb,
    long RssFileKb,
    long RssShmemKb,
    FolioCensus Census)
{
    public long RssKb => RssAnonKb + RssFileKb + RssShmemKb;
}
