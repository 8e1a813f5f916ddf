using BenchmarkDotNet.Running;

namespace Rotor.Bench;

/// <summary>
/// BenchmarkDotNet entry point: every benchmark class of this assembly, chosen with BenchmarkDotNet's own
/// arguments, e.g. <c>--filter '*Group*'</c>, <c>--job short</c> for a quick run, <c>--list flat</c>.
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
