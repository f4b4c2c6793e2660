namespace MthpSim.Trace.Format;

/// <summary>
/// A background thread that runs one read-ahead at a time for the thread that started it, and is then
/// kept by that thread for its next one: starting a thread per replay cost about 100 µs, a tenth of a
/// short trace's replay. Only an idle thread is kept, one per consuming thread; it holds no replay's state.
/// </summary>
internal sealed class ReadAheadThread
{
    [ThreadStatic] static ReadAheadThread? t_idle;

    readonly Thread _thread;
    readonly SemaphoreSlim _go = new(0);
    readonly ManualResetEventSlim _done = new(false);
    Action? _job;

    ReadAheadThread()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "trace read-ahead" };
        _thread.Start();
    }

    /// <summary>The managed id of the thread that runs the jobs (for tests).</summary>
    internal int ThreadId => _thread.ManagedThreadId;

    /// <summary>Runs <paramref name="job"/> on this thread's idle read-ahead thread, or on a new one.</summary>
    public static ReadAheadThread Start(Action job)
    {
        var t = t_idle ?? new ReadAheadThread();
        t_idle = null;
        t._done.Reset();
        t._job = job;
        t._go.Release();
        return t;
    }

    /// <summary>Waits for the job to end; the thread is kept for the calling thread's next job (or ends, if one is kept already).</summary>
    public void Join()
    {
        _done.Wait();
        if (t_idle == null) t_idle = this;
        else _go.Release();   // no job: the loop ends
    }

    void Loop()
    {
        while (true)
        {
            _go.Wait();
            var job = _job;
            if (job == null) return;
            _job = null;
            try { job(); }
            finally { _done.Set(); }
        }
    }
}
