namespace MthpSim.Core;

/// <summary>Linux x86_64 errno values; syscalls in the model return them negated, as the kernel does.</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ENXIO = 6;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EFAULT = 14;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int EINVAL = 22;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EACCES = 13;
    public const int ENOSPC = 28;
    public const int ERANGE = 34;

    public static string Name(long rc) => (-rc) switch
    {
        EPERM => "EPERM", ENXIO => "ENXIO", EAGAIN => "EAGAIN", ENOMEM => "ENOMEM",
        EFAULT => "EFAULT", EBUSY => "EBUSY", EEXIST => "EEXIST", EINVAL => "EINVAL",
        ENOENT => "ENOENT", ESRCH => "ESRCH", EACCES => "EACCES", ENOSPC => "ENOSPC", ERANGE => "ERANGE",
        _ => rc.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
