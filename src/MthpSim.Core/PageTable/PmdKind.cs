namespace MthpSim.Core.PageTable;

/// <summary>What a PMD entry holds.</summary>
public enum PmdKind : byte
{
    /// <summary>pmd_none(): nothing below; a fault may try the PMD path.</summary>
    None,
    /// <summary>Points to a PTE table.</summary>
    Table,
    /// <summary>pmd_trans_huge(): maps a PMD-sized folio directly.</summary>
    Huge,
    /// <summary>is_huge_zero_pmd(): maps the huge zero folio read-only.</summary>
    HugeZero,
}
