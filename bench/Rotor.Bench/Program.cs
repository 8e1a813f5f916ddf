using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace Rotor.Bench;

/// <summary>
/// BenchmarkDotNet entry point: every benchmark class of this assembly, chosen with BenchmarkDotNet's own
/// arguments, e.g. <c>--filter '*Group*'</c>, <c>--job short --inProcess</c> for a quick run, <c>--list flat</c>.
/// Min and median are shown beside the mean: on a shared machine the minimum is the closest to the uncontended cost.
/// <c>timing</c> as the first argument runs the dudect-style timing tests instead (<see cref="TimingRunner"/>);
/// <c>ecdsa</c> a quick stopwatch run of threshold ECDSA (<see cref="EcdsaRunnerBench"/>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "timing") return TimingRunner.Run(args[1..]);
        if (args.Length > 0 && args[0] == "hd-cpu") return HdCpuTimer.Run(args[1..]);
        if (args.Length > 0 && args[0] == "ecdsa-micro") return EcdsaMicro.Run();
        if (args.Length > 0 && args[0] == "ecdsa") return EcdsaRunnerBench.Run(args[1..]);
        if (args.Length > 0 && args[0] == "envelope") return EnvelopeMicro.Run(args[1..]);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly)
            .Run(args, DefaultConfig.Instance.AddColumn(StatisticColumn.Min, StatisticColumn.Median));
        return 0;
    }
}
