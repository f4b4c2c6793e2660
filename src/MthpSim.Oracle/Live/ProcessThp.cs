using System.Runtime.InteropServices;

namespace MthpSim.Oracle.Live;

/// <summary>prctl(PR_SET_THP_DISABLE) on the oracle's own process, so the runtime's page faults never use THP.</summary>
public static partial class ProcessThp
{
    const int PR_SET_THP_DISABLE = 41;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    /// <summary>Disables THP for this process (and, by inheritance, its children until they clear it).</summary>
    public static void DisableForThisProcess() => prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
}
