using System.Reflection;
using System.Reflection.Emit;
using MthpSim.Core.Khugepaged.Policies;

namespace MthpSim.Tests.Core;

/// <summary>
/// The shipped collapse designs are written against the same public surface an external policy
/// assembly gets (<c>--policy-assembly</c>): every member of MthpSim.Core their code uses, outside
/// their own class, is public on a public type. Checked on their compiled IL.
/// </summary>
public class CollapsePolicyPublicSurfaceTests
{
    static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>Every type, method and field of MthpSim.Core the IL of <paramref name="policy"/> (nested types included) refers to outside it.</summary>
    internal static IEnumerable<MemberInfo> CoreMembersUsed(Type policy)
    {
        var core = typeof(ICollapsePolicy).Assembly;
        var types = new[] { policy }.Concat(policy.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic));
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var t in types)
            foreach (var m in t.GetMethods(all).Cast<MethodBase>().Concat(t.GetConstructors(all)))
            {
                byte[]? il = m.GetMethodBody()?.GetILAsByteArray();
                if (il == null) continue;
                for (int i = 0; i < il.Length;)
                {
                    short value = il[i] == 0xfe ? (short)(0xfe00 | il[i + 1]) : il[i];
                    var op = OpCodesByValue[value];
                    i += op.Size;
                    if (op.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok)
                    {
                        int token = BitConverter.ToInt32(il, i);
                        var member = m.Module.ResolveMember(token, t.IsGenericType ? t.GetGenericArguments() : null, m.IsGenericMethod ? m.GetGenericArguments() : null);
                        var owner = member as Type ?? member?.DeclaringType;
                        if (member != null && owner?.Assembly == core && !types.Contains(owner)) yield return member;
                    }
                    i += op.OperandType switch
                    {
                        OperandType.InlineNone => 0,
                        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                        OperandType.InlineVar => 2,
                        OperandType.InlineI8 or OperandType.InlineR => 8,
                        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                        _ => 4,
                    };
                }
            }
    }

    static bool IsPublic(MemberInfo m) => m switch
    {
        Type t => t.IsVisible,
        MethodBase mb => mb.IsPublic && mb.DeclaringType!.IsVisible,
        FieldInfo f => f.IsPublic && f.DeclaringType!.IsVisible,
        _ => false,
    };

    [Theory]
    [InlineData(typeof(PmdOnlyPolicy))]
    [InlineData(typeof(MthpPolicy))]
    [InlineData(typeof(BitmapRfcPolicy))]
    [InlineData(typeof(PerOrderRfcPolicy))]
    public void A_shipped_design_uses_only_the_public_surface(Type policy)
    {
        var used = CoreMembersUsed(policy).ToList();
        Assert.NotEmpty(used);   // the walk found its calls (PmdWindow.Scan at least)
        var hidden = used.Where(m => !IsPublic(m)).Select(m => $"{m.DeclaringType?.Name}.{m.Name}").Distinct().Order().ToList();
        Assert.True(hidden.Count == 0, $"{policy.Name} uses members an external policy cannot: {string.Join(", ", hidden)}");
    }
}
