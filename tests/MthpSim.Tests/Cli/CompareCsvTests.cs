using CsvHelper;
using static MthpSim.Tests.Cli.CliRunner;

namespace MthpSim.Tests.Cli;

/// <summary>compare --csv is RFC 4180: a field holding a comma or a quote is quoted, so every row keeps its columns.</summary>
public class CompareCsvTests
{
    [Fact]
    public void A_file_name_with_a_comma_and_a_quote_stays_one_field()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"mthpsim-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string file = Path.Combine(dir, "a,b \"c\".mthp");
        File.WriteAllText(file, "process p\np mmap a any 2M\np write a 0 2M\nexpect rc == 0\n");
        try
        {
            var (code, stdout, stderr) = Run("compare", "--csv", "--policy", "pmd-only,mthp", file);
            Assert.Equal(0, code);
            Assert.Equal("", stderr);
            using var csv = CsvReader.Create(new StringReader(stdout));
            var policies = new List<string>();
            while (csv.Read())
            {
                Assert.Equal(19, csv.FieldCount);
                Assert.Equal(file, csv.GetString("file"));
                policies.Add(csv.GetString("policy"));
                Assert.Equal("1", csv.GetString("expectations"));
            }
            Assert.Equal(["pmd-only", "mthp"], policies);
            Assert.StartsWith("file,policy,pmd_windows,", stdout);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
