using MthpSim.Oracle.Live;

namespace MthpSim.Oracle.Fragmentation;

/// <summary>Builds <c>mthp_frag</c> (Fragmentation/mthp_frag.c, embedded) with gcc, as the other live programs are built.</summary>
public static class FragDriver
{
    public static string Ensure()
    {
        if (!File.Exists("/usr/include/linux/io_uring.h"))
            throw new OracleUnavailableException("linux/io_uring.h is missing (install the kernel headers, e.g. linux-libc-dev): mthp_frag pins pages with io_uring");
        return DriverBuilder.Ensure(typeof(FragDriver).Assembly, "mthp_frag");
    }
}
