using System.Text;
using MthpSim.Core.Vma;

namespace MthpSim.Core;

// fs/proc/task_mmu.c: the line that opens a VMA in /proc/PID/maps and smaps.
public sealed partial class Kernel
{
    /// <summary>
    /// models show_map_vma(): range, permissions, file offset, device, inode and, padded to column 73,
    /// the name. Shmem files are on the internal mount (device 00:01, as live) or a tmpfs mount (the
    /// model numbers its mounts from 00:40); inode numbers are the model's own file numbers.
    /// </summary>
    public string MapsHeader(Vma.Vma vma)
    {
        var (offset, dev, inode, name) = MapsIdentity(vma);
        var sb = new StringBuilder($"{vma.Start:x8}-{vma.End:x8} {MapsPerms(vma)} {offset:x8} {dev} {inode} ");
        if (name.Length > 0) sb.Append(new string(' ', Math.Max(0, 72 - sb.Length))).Append(' ').Append(name);
        return sb.ToString();
    }

    /// <summary>The file offset in bytes, device, inode and name a maps line gives for VMA (0, 00:00, 0 and no name for anonymous memory).</summary>
    public (long Offset, string Dev, long Inode, string Name) MapsIdentity(Vma.Vma vma)
    {
        var f = vma.File;
        if (f == null) return (0, "00:00", 0, "");
        string name = f.AnonShared ? "/dev/zero (deleted)" : f.Mount == null ? $"/{f.Name} (deleted)" : $"/{f.Name}";
        return (vma.PgOff << PageShift, f.Mount == null ? "00:01" : "00:40", f.Id, name);
    }

    /// <summary>r, w, x and p (private) or s (shared), as the maps line spells them.</summary>
    public static string MapsPerms(Vma.Vma vma) =>
        $"{((vma.Flags & VmFlags.Read) != 0 ? 'r' : '-')}{((vma.Flags & VmFlags.Write) != 0 ? 'w' : '-')}{((vma.Flags & VmFlags.Exec) != 0 ? 'x' : '-')}{((vma.Flags & VmFlags.Shared) != 0 ? 's' : 'p')}";
}
