using System.Runtime.InteropServices;
using System.Text;

namespace MthpSim.Oracle.Settings;

/// <summary>
/// Writes a sysfs file with open(2)/write(2) from this process, to get the kernel's exact errno
/// (a .NET IOException does not carry it). Done here, not in a driver, so that no write can
/// outlive a killed oracle run.
/// </summary>
public static partial class SysfsFile
{
    const int O_WRONLY = 1;
    // As `echo VALUE > FILE` opens it: sysfs ignores the truncation, and a plain file standing in
    // for sysfs (the fake trees tests restore into) then holds exactly the value written.
    const int O_TRUNC = 0x200;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int fd, byte[] buf, nint count);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    /// <summary>0, or the negative errno that open or write failed with.</summary>
    public static int WriteValue(string path, string value)
    {
        int fd = Open(path, O_WRONLY | O_TRUNC);
        if (fd < 0) return -Marshal.GetLastPInvokeError();
        try
        {
            byte[] bytes = Encoding.ASCII.GetBytes(value);
            return Write(fd, bytes, bytes.Length) < 0 ? -Marshal.GetLastPInvokeError() : 0;
        }
        finally { Close(fd); }
    }
}
