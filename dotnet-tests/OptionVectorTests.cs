using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace TlsBridge.Tests;

/// <summary>c-tests/vectors/options.vec through the .NET face: every case, no skips.</summary>
public class OptionVectorTests
{
    internal sealed class Case
    {
        public string Name = "";
        public string Role = "client";
        public List<(string Name, string Value)> Options = new();
        public string? Status;
        public List<string> Settings = new();
        public List<string> NoSettings = new();
        public List<string> ErrorContains = new();

    }

    /// <summary>The format of c-tests/vectors/README.md.</summary>
    internal static IEnumerable<Case> Parse(string path, string certs)
    {
        Case? current = null;
        int number = 0;
        foreach (string raw in File.ReadLines(path))
        {
            number++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            int space = line.IndexOf(' ');
            string directive = space < 0 ? line : line[..space];
            string rest = space < 0 ? "" : line[(space + 1)..].Replace("${CERTS}", certs);
            if (directive == "case")
            {
                current = new Case { Name = rest };
                continue;
            }
            if (current == null)
                throw new FormatException($"{path}:{number}: '{directive}' outside a case");
            switch (directive)
            {
                case "role": current.Role = rest; break;
                case "set":
                    int eq = rest.IndexOf('=');
                    current.Options.Add((rest[..eq], rest[(eq + 1)..]));
                    break;
                case "status": current.Status = rest; break;
                case "setting": current.Settings.Add(rest); break;
                case "no-setting": current.NoSettings.Add(rest); break;
                case "error-contains": current.ErrorContains.Add(rest); break;
                case "end":
                    yield return current;
                    current = null;
                    break;
                default: throw new FormatException($"{path}:{number}: unknown directive '{directive}'");
            }
        }
        if (current != null)
            throw new FormatException($"{path}: case {current.Name} has no end");
    }

    public static TheoryData<string> CaseNames()
    {
        var names = new TheoryData<string>();
        foreach (Case c in Parse(TestEnv.Vectors, TestEnv.Certs))
            names.Add(c.Name);
        return names;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Vector(string name)
    {
        Case c = Parse(TestEnv.Vectors, TestEnv.Certs).Single(v => v.Name == name);
        Assert.NotNull(c.Status);
        using var config = new TlsConfig();
        foreach ((string option, string value) in c.Options)
            config.Set(option, value);
        TlsContext? context = null;
        TlsException? error = null;
        try
        {
            context = c.Role == "server" ? TlsContext.CreateServer(config) : TlsContext.CreateClient(config);
        }
        catch (TlsException e)
        {
            error = e;
        }
        using (context)
        {
            if (c.Status == "TLSB_OK")
            {
                Assert.True(error == null, $"{name}: expected TLSB_OK, got {error?.StatusName}: {error?.Message}");
                string[] lines = context!.EffectiveSettings.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                foreach (string expected in c.Settings)
                    Assert.True(lines.Contains(expected), $"{name}: settings lack '{expected}':\n{context.EffectiveSettings}");
                foreach (string unexpected in c.NoSettings)
                    Assert.False(lines.Contains(unexpected), $"{name}: settings have '{unexpected}':\n{context.EffectiveSettings}");
            }
            else
            {
                Assert.True(error != null, $"{name}: expected {c.Status}, got a context:\n{context?.EffectiveSettings}");
                Assert.Equal(c.Status, error!.StatusName);
                foreach (string text in c.ErrorContains)
                    Assert.Contains(text, error.Message);
            }
        }
    }

    [Fact]
    public void VectorNamesAreUnique()
    {
        List<string> names = Parse(TestEnv.Vectors, TestEnv.Certs).Select(c => c.Name).ToList();
        Assert.NotEmpty(names);
        Assert.Equal(names.Count, names.Distinct().Count());
    }
}
