namespace MthpSim.Core.Shmem;

/// <summary>A shmem superblock's huge= policy (SHMEM_HUGE_*): the tmpfs mount option, or the internal mount's copy of shmem_enabled.</summary>
public enum ShmemHuge { Never, Always, WithinSize, Advise }
