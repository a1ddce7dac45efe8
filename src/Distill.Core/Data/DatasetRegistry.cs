namespace Distill.Data;

/// <summary>Named datasets usable as <c>data.dataset</c>. Unknown keys are an error listing the valid ones.</summary>
public sealed class DatasetRegistry
{
    private readonly Dictionary<string, DatasetKind> _kinds = new(StringComparer.Ordinal);

    public static DatasetRegistry Default { get; } = CreateDefault();

    public IReadOnlyCollection<string> Keys => _kinds.Keys;

    public void Register(DatasetKind kind)
    {
        if (_kinds.ContainsKey(kind.Key)) throw new InvalidOperationException($"Dataset '{kind.Key}' is registered twice.");
        _kinds[kind.Key] = kind;
    }

    public bool TryGet(string key, out DatasetKind kind) => _kinds.TryGetValue(key, out kind!);

    public DatasetKind Get(string key) => TryGet(key, out var k)
        ? k
        : throw new KeyNotFoundException($"Unknown dataset '{key}'. Valid datasets: {string.Join(", ", _kinds.Keys.Order())}.");

    private static DatasetRegistry CreateDefault()
    {
        var r = new DatasetRegistry();
        r.Register(Mnist.MnistDataset.Kind);
        r.Register(Sst2.Sst2Dataset.Kind);
        r.Register(Cifar10.Cifar10Dataset.Kind);
        r.Register(Fsdd.FsddDataset.Kind);
        r.Register(Fsdd.FsddWordsDataset.Kind);
        r.Register(TextClassification.TextClassificationDataset.Kind);
        r.Register(ImageFolder.ImageFolderDataset.Kind);
        r.Register(AudioFolder.AudioFolderDataset.Kind);
        r.Register(Transcripts.AudioTranscriptsDataset.Kind);
        return r;
    }
}
