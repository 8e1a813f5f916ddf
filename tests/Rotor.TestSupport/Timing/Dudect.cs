using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Rotor.TestSupport.Timing;

/// <summary>
/// A dudect-style timing-leak test (Reparaz, Balasch, Verbauwhede, "Dude, is my code constant time?", DATE 2017),
/// written for .NET: two classes of inputs, a fixed secret and fresh random secrets, interleaved in a random
/// order; each call (or a run of <see cref="DudectOptions.Repetitions"/> calls on the same input) timed with
/// <see cref="Stopwatch.GetTimestamp"/>; the measurements cropped at a series of percentiles as dudect does, and
/// Welch's t-test between the two classes on each cropped set and on the whole. The largest |t| is the verdict:
/// above 4.5 the function's time depends on its secret input (dudect's and issue 12's line), above 10 it surely does.
/// <para>
/// Why this is robust on a shared, loaded machine: the class of every measurement is drawn at random, so noise
/// from other processes (preemption, frequency changes, cache pollution, GC pauses) falls on both classes alike and
/// only widens the distributions, which lowers |t| rather than raising it; the crops keep the fast, undisturbed
/// part. A systematic difference between the classes can only come from the inputs, i.e. from the code under test.
/// The inputs of a batch are made before it is timed, so making random secrets costs nothing in the measurement.
/// </para>
/// </summary>
public static class Dudect
{
    /// <summary>dudect's line: above this |t| a timing difference is considered found (issue 12's criterion for the long runs).</summary>
    public const double LeakThreshold = 4.5;

    /// <summary>
    /// The line of the short runs in the test suite. A short run cannot show that a function is constant time; it
    /// must catch a gross leak and never fail a constant-time function on a loaded machine. Under no leak |t| is
    /// about normal (|t| &gt; 10 has probability below 10^-20 per crop), so only a real difference gets there,
    /// and dudect itself calls |t| &gt; 10 "definitely not constant time". A leak between 4.5 and 10 in a short run
    /// is reported in the test output (the long run in bench, at 4.5, is where small leaks are judged).
    /// </summary>
    public const double ShortRunThreshold = 10;

    /// <summary>dudect's crop percentiles: 1 − 0.5^(10·(i+1)/count), from about 7 % (the fastest measurements only) to 99.9 %.</summary>
    public static double[] CropPercentiles(int count) =>
        Enumerable.Range(0, count).Select(i => 1 - Math.Pow(0.5, 10.0 * (i + 1) / count)).ToArray();

    /// <summary>
    /// Times <paramref name="operation"/> on the fixed secret (class 0) and on random secrets (class 1), randomly
    /// interleaved, and tests the two classes' times. <paramref name="fixedInput"/> must return the same value every
    /// time but as a fresh object where the input is a reference type (a byte array): one object used over and over
    /// would stay in the cache while random inputs are read from memory, and that alone is measurable.
    /// </summary>
    public static DudectResult Run<TIn, TOut>(string name, Func<TIn> fixedInput, Func<TIn> randomInput, Func<TIn, TOut> operation, DudectOptions options)
    {
        if (options.Samples < 1000) throw new ArgumentException("too few samples for a timing test");
        if (options.Calibration) fixedInput = randomInput;     // A/A: no difference between the classes but the label
        int batch = Math.Min(options.BatchSize, options.Samples);
        // with a time limit, batches small enough (a twentieth of the run) that the limit is kept for slow functions
        if (options.TimeLimit is not null) batch = Math.Min(batch, Math.Max(200, options.Samples / 20));
        var classes = new byte[batch];
        var inputs = new TIn[batch];
        var spacers = options.Spacers ? new TIn[batch] : null;
        var times = new long[batch];
        var rng = options.Seed is { } seed ? new Random(seed) : new Random();
        TOut last = default!;

        void Prepare(int n)
        {
            for (int i = 0; i < n; i++)
            {
                classes[i] = (byte)rng.Next(2);
                inputs[i] = classes[i] == 0 ? fixedInput() : randomInput();
                if (spacers is not null) spacers[i] = randomInput();
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        void Measure(int n)
        {
            int reps = options.Repetitions;
            for (int i = 0; i < n; i++)
            {
                var input = inputs[i];
                if (spacers is not null) last = operation(spacers[i]);
                long t0 = Stopwatch.GetTimestamp();
                for (int r = 0; r < reps; r++) last = operation(input);
                long t1 = Stopwatch.GetTimestamp();
                times[i] = t1 - t0;
            }
        }

        // Warm-up (JIT tiers, caches, tables); its measurements set the crop thresholds, as dudect's first batch does.
        // Passes (at least one) until the warm-up time is over, so that tiered compilation has produced the final code.
        int warm = Math.Min(Math.Max(options.WarmupSamples, 100), batch);
        Prepare(warm);
        var warmClock = Stopwatch.StartNew();
        do Measure(warm);
        while (warmClock.Elapsed.TotalSeconds < options.WarmupSeconds);
        var sorted = times.AsSpan(0, warm).ToArray();
        Array.Sort(sorted);
        var percentiles = CropPercentiles(options.Crops);
        var thresholds = percentiles.Select(p => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))]).ToArray();
        var tests = new Welch[thresholds.Length + 1];          // [0]: everything; [i+1]: below thresholds[i]
        for (int i = 0; i < tests.Length; i++) tests[i] = new Welch();

        var clock = Stopwatch.StartNew();
        int done = 0;
        while (done < options.Samples)
        {
            int n = Math.Min(batch, options.Samples - done);
            Prepare(n);
            Measure(n);
            for (int i = 0; i < n; i++)
            {
                double x = times[i];
                int c = classes[i];
                tests[0].Add(c, x);
                for (int j = 0; j < thresholds.Length; j++)
                    if (times[i] < thresholds[j]) tests[j + 1].Add(c, x);
            }
            done += n;
            if (options.TimeLimit is { } limit && clock.Elapsed > limit && done >= options.MinimumSamples) break;
        }
        GC.KeepAlive(last);
        Array.Clear(inputs);
        if (spacers is not null) Array.Clear(spacers);

        int best = -1;
        double bestT = 0;
        for (int i = 0; i < tests.Length; i++)
        {
            if (tests[i].Min < options.MinimumPerClass) continue;
            double t = tests[i].T;
            if (best < 0 || Math.Abs(t) > Math.Abs(bestT)) (best, bestT) = (i, t);
        }
        double tickNs = 1e9 / Stopwatch.Frequency / options.Repetitions;
        var all = tests[0];
        var result = new DudectResult(name, done, clock.Elapsed, Math.Abs(bestT), bestT, best <= 0 ? null : percentiles[best - 1],
            best < 0 ? 0 : tests[best].Count, all.Mean(0) * tickNs, all.Mean(1) * tickNs, tests[0].T)
        {
            SpreadRatio = best < 0 ? 1 : tests[best].StandardDeviation(0) / tests[best].StandardDeviation(1),
        };
        if (Environment.GetEnvironmentVariable(LogVariable) is { Length: > 0 } log)
            lock (LogLock) File.AppendAllText(log, $"{DateTime.UtcNow:O} {result}{Environment.NewLine}");
        return result;
    }

    /// <summary>
    /// A short run's verdict, robust to a loaded machine: a run above <paramref name="threshold"/> is repeated as an
    /// independent experiment (a new fixed secret from <paramref name="fixedSource"/>, fresh random ones, a fresh
    /// order), and the function leaks only when that run is also above the line with the same sign. A real
    /// dependence of the time on the secret shows again; a disturbance that happened to fall on one class, or a
    /// microarchitectural accident of one particular value, does not. A run at or below the line is final.
    /// </summary>
    /// <param name="fixedSource">Called once per run: draws that run's fixed secret and returns the function that
    /// hands it out (as a fresh object each time if it is a reference type, see <see cref="Run"/>).</param>
    public static (bool Leaks, DudectResult[] Runs) RunConfirmed<TIn, TOut>(string name, Func<Func<TIn>> fixedSource, Func<TIn> randomInput,
        Func<TIn, TOut> operation, DudectOptions options, double threshold)
    {
        var first = Run(name, fixedSource(), randomInput, operation, options);
        if (!first.Leaks(threshold)) return (false, [first]);
        var second = Run(name + " (confirmation)", fixedSource(), randomInput, operation, options);
        return (second.Leaks(threshold) && Math.Sign(second.MaxT) == Math.Sign(first.MaxT), [first, second]);
    }

    /// <summary>
    /// The test suite's verdict on a short run (<see cref="RunConfirmed"/> at <see cref="ShortRunThreshold"/>): every
    /// run goes to <paramref name="log"/>; throws <see cref="TimingCheckException"/> when the last run has too few
    /// measurements to judge, or when the function leaks (the message lists the runs).
    /// </summary>
    public static void RequireNoGrossLeak<TIn, TOut>(string name, Func<Func<TIn>> fixedSource, Func<TIn> randomInput,
        Func<TIn, TOut> operation, DudectOptions options, Action<string> log)
    {
        var (leaks, runs) = RunConfirmed(name, fixedSource, randomInput, operation, options, ShortRunThreshold);
        foreach (var r in runs) log(r.ToString());
        var report = string.Join("; ", runs.Select(r => r.ToString()));
        if (!runs[^1].MinimumSamplesMet(1000)) throw new TimingCheckException($"too few measurements to judge: {report}");
        if (leaks) throw new TimingCheckException($"timing leak: {report}");
    }

    /// <summary>
    /// For a positive control: whether a deliberately leaking function is flagged above <paramref name="threshold"/>
    /// in one of at most two runs (a single run can drown in a burst of load).
    /// </summary>
    public static (bool Flagged, DudectResult[] Runs) RunControl<TIn, TOut>(string name, Func<Func<TIn>> fixedSource, Func<TIn> randomInput,
        Func<TIn, TOut> operation, DudectOptions options, double threshold)
    {
        var first = Run(name, fixedSource(), randomInput, operation, options);
        if (first.Leaks(threshold)) return (true, [first]);
        var second = Run(name + " (second run)", fixedSource(), randomInput, operation, options);
        return (second.Leaks(threshold), [first, second]);
    }

    /// <summary>When set, every result is also appended as a line to the file it names.</summary>
    public const string LogVariable = "ROTOR_DUDECT_LOG";

    private static readonly object LogLock = new();

    /// <summary>Welch's t-test, updated one measurement at a time (Welford's running mean and variance per class).</summary>
    private sealed class Welch
    {
        private readonly double[] mean = new double[2], m2 = new double[2];
        private readonly long[] n = new long[2];

        public void Add(int c, double x)
        {
            n[c]++;
            double d = x - mean[c];
            mean[c] += d / n[c];
            m2[c] += d * (x - mean[c]);
        }

        public long Min => Math.Min(n[0], n[1]);
        public long Count => n[0] + n[1];
        public double Mean(int c) => mean[c];
        public double StandardDeviation(int c) => n[c] < 2 ? 0 : Math.Sqrt(m2[c] / (n[c] - 1));

        public double T
        {
            get
            {
                if (n[0] < 2 || n[1] < 2) return 0;
                double v0 = m2[0] / (n[0] - 1), v1 = m2[1] / (n[1] - 1);
                double se = Math.Sqrt(v0 / n[0] + v1 / n[1]);
                return se == 0 ? 0 : (mean[0] - mean[1]) / se;
            }
        }
    }
}

/// <param name="Samples">Measurements to take (each of <see cref="Repetitions"/> calls).</param>
/// <param name="Repetitions">Calls timed together on the same input: for functions of tens of nanoseconds, whose
/// time would otherwise be mostly the clock's.</param>
/// <param name="BatchSize">Measurements prepared and taken at a time.</param>
/// <param name="WarmupSamples">Measurements repeated before the test (at least once, and for at least
/// <paramref name="WarmupSeconds"/> seconds); the last pass sets the crop thresholds.</param>
/// <param name="WarmupSeconds">Minimum warm-up (tiered compilation makes the optimised code after about 100 ms).</param>
/// <param name="Crops">Number of crop percentiles (dudect: 100).</param>
/// <param name="MinimumPerClass">A crop with fewer measurements of either class is not judged.</param>
/// <param name="TimeLimit">Stop early after this long (a short run on a very slow machine), once
/// <paramref name="MinimumSamples"/> are taken; the result says how many were.</param>
/// <param name="MinimumSamples">Taken whatever the time limit: on a machine so loaded that a slow function gets
/// fewer in the time, the run takes longer rather than judging on too few.</param>
/// <param name="Seed">Seed of the class order (not of the secrets), for reproducing an order.</param>
/// <param name="Spacers">Before each timed measurement, one untimed call on a fresh random input. Without it, a
/// fixed-class measurement that follows another copies the very bytes its predecessor copied, and the processor
/// times that differently: on the project's idle AMD EPYC a function that never reads its input read |t| = 6 to 11.6
/// at 1,000,000 samples (2.9 at most with the spacers, and 2.7 at most when both classes are the fixed input). With
/// the spacer every timed call follows a call on unrelated data in both classes, and what is left between the
/// classes is the function's own dependence on the current input. Doubles the running time.</param>
/// <param name="Calibration">A/A run: both classes draw from the random inputs, so any |t| above the line is the
/// harness's or the machine's, not the function's.</param>
public sealed record DudectOptions(
    int Samples,
    int Repetitions = 1,
    int BatchSize = 2_000,
    int WarmupSamples = 2_000,
    double WarmupSeconds = 0.3,
    int Crops = 100,
    int MinimumPerClass = 500,
    TimeSpan? TimeLimit = null,
    int MinimumSamples = 2_000,
    int? Seed = null,
    bool Spacers = true,
    bool Calibration = false);

/// <param name="MaxAbsT">The largest |t| over the whole set and every crop with enough measurements.</param>
/// <param name="MaxT">That t with its sign: positive when the fixed input was the slower.</param>
/// <param name="Crop">The percentile of the crop that gave it (null: the whole set).</param>
/// <param name="FixedMeanNs">Mean time of one call on the fixed input, over all measurements.</param>
/// <param name="RandomMeanNs">Mean time of one call on random inputs.</param>
/// <param name="WholeT">t over all measurements, uncropped.</param>
public sealed record DudectResult(string Name, int Samples, TimeSpan Elapsed, double MaxAbsT, double MaxT, double? Crop, long CropCount,
    double FixedMeanNs, double RandomMeanNs, double WholeT)
{
    /// <summary>
    /// The fixed class's standard deviation over the random class's, in the set that gave <see cref="MaxT"/>. Far from
    /// 1 in a crop, a |t| may come from the classes' spreads (a narrower fixed class has a higher mean below a crop
    /// line in the middle of the distribution) rather than from a shift of the fixed class's time.
    /// </summary>
    public double SpreadRatio { get; init; } = 1;

    public bool Leaks(double threshold) => MaxAbsT > threshold;

    /// <summary>Whether at least this many measurements were taken (a run stopped by its time limit may have fewer).</summary>
    public bool MinimumSamplesMet(int samples) => Samples >= samples;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name}: max |t| = {MaxAbsT:F2} (t = {MaxT:F2}, {(Crop is { } c ? $"crop at {c * 100:F1} %, {CropCount} measurements" : "uncropped")}); " +
        $"{Samples} samples in {Elapsed.TotalSeconds:F2} s; mean {FixedMeanNs:F0} ns fixed, {RandomMeanNs:F0} ns random; uncropped t = {WholeT:F2}; spread fixed/random {SpreadRatio:F4}");
}

/// <summary>A short timing run that failed: a leak, or too few measurements to judge.</summary>
public sealed class TimingCheckException(string message) : Exception(message);
