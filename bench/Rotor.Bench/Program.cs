using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace Rotor.Bench;

/// <summary>
/// BenchmarkDotNet entry point: every benchmark class of this assembly, chosen with BenchmarkDotNet's own
/// arguments, e.g. <c>--filter '*Group*'</c>, <c>--job short --inProcess</c> for a quick run, <c>--list flat</c>.
/// Min and median are shown beside the mean: on a shared machine the minimum is the closest to the uncontended cost.
/// </summary>
public static class Program
{
    public static void Main(string[] args) =>
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly)
            .Run(args, DefaultConfig.Instance.AddColumn(StatisticColumn.Min, StatisticColumn.Median));
}
