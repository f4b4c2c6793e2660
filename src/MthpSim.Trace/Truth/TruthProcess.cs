namespace MthpSim.Trace.Truth;

/// <summary>What the live kernel showed of one process just before it exited: Rss by kind and its mapped pages by folio size.</summary>
public sealed record TruthProcess(
    int Pid,
    string Comm,
    long RssAnonKb,
    long RssFileKb,
    long RssShmemKb,
    long ZeroPages,
    SortedDictionary<int, long> AnonPagesByOrder,
    SortedDictionary<int, long> FilePagesByOrder)
{
    public long RssKb => RssAnonKb + RssFileKb + RssShmemKb;
}
