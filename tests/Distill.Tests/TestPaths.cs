namespace Distill.Tests;

/// <summary>
/// Where the suite's inputs live, all inside the repository: the datasets shipped in <c>data/</c>, and the test
/// fixtures in <c>tests/fixtures/</c> (tiny HF checkpoints with HF reference outputs, tokenizer references; see
/// <c>tests/fixtures/README.md</c>). Only <see cref="SharedData"/> points outside, for the few provenance checks
/// that compare shipped data with the origin copies and are skipped where those are absent.
/// </summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The datasets shipped with Distill (<c>data/</c>): mnist, cifar10, sst2, fsdd, the bert-base-uncased vocabulary.</summary>
    public static string Data { get; } = Path.Combine(RepoRoot, "data");

    /// <summary>The test fixtures (<c>tests/fixtures/</c>).</summary>
    public static string Fixtures { get; } = Path.Combine(RepoRoot, "tests", "fixtures");

    /// <summary>A tiny HF reference folder (<c>tests/fixtures/hf/&lt;name&gt;</c>): config, weights, reference inputs and outputs.</summary>
    public static string Hf(string name) => Path.Combine(Fixtures, "hf", name);

    /// <summary>The tokenizer references (<c>tokenizer.json</c>, <c>tokenization_reference.json</c>) beside the shipped vocabulary.</summary>
    public static string TokenizerFixtures { get; } = Path.Combine(Fixtures, "bert-base-uncased-tokenizer");

    /// <summary>The shipped bert-base-uncased vocabulary folder (<c>data/bert-base-uncased-tokenizer</c>).</summary>
    public static string Tokenizer { get; } = Path.Combine(Data, "bert-base-uncased-tokenizer");

    /// <summary>
    /// The origin copies the shipped data was cut from (DISTILL_SHARED_DATA, else ../shared/data beside the checkout);
    /// present in CI, absent in a user's clone. Only <see cref="SharedDataFactAttribute"/> tests read it.
    /// </summary>
    public static string SharedData { get; } =
        Environment.GetEnvironmentVariable("DISTILL_SHARED_DATA") is { Length: > 0 } env ? env
        : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Distill.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cannot find Distill.sln above the test binaries.");
    }
}
