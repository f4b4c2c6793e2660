namespace MthpSim.Oracle.Live;

/// <summary>sched_getaffinity() and sched_setaffinity() of a task, with a mask of up to 1,024 CPUs.</summary>
public static partial class CpuAffinity
{
    const int MaskBytes = 128;

    /// <summary>The task's CPU mask, or null when the task is gone.</summary>
    public static byte[]? Get(int pid)
    {
        var mask = new byte[MaskBytes];
        return SchedGetaffinity(pid, MaskBytes, mask) == 0 ? mask : null;
    }

    /// <summary>Sets the task's CPU mask; 0 or the errno.</summary>
    public static int Set(int pid, byte[] mask) =>
        SchedSetaffinity(pid, (nuint)mask.Length, mask) == 0 ? 0 : System.Runtime.InteropServices.Marshal.GetLastPInvokeError();

    /// <summary>The mask of one CPU.</summary>
    public static byte[] Only(int cpu)
    {
        var mask = new byte[MaskBytes];
        mask[cpu / 8] = (byte)(1 << (cpu % 8));
        return mask;
    }

    /// <summary>The mask as the kernel prints it in hexadecimal, lowest CPU last (as /proc/PID/status shows Cpus_allowed, without commas).</summary>
    public static string Format(byte[] mask) => Convert.ToHexStringLower(mask.Reverse().ToArray()).TrimStart('0') is { Length: > 0 } s ? s : "0";

    /// <summary>The mask of <see cref="Format"/>'s text, or null when the text is not one.</summary>
    public static byte[]? Parse(string text)
    {
        if (text.Length == 0 || text.Length > 2 * MaskBytes || !text.All(Uri.IsHexDigit)) return null;
        var bytes = Convert.FromHexString(text.PadLeft(2 * MaskBytes, '0'));
        Array.Reverse(bytes);
        return bytes;
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static partial int SchedGetaffinity(int pid, nuint size, byte[] mask);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static partial int SchedSetaffinity(int pid, nuint size, byte[] mask);
}
