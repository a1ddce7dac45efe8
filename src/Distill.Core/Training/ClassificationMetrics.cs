namespace Distill.Training;

/// <summary>Accuracy and macro-F1 from a confusion matrix accumulated batch by batch.</summary>
public sealed class ClassificationMetrics(int numClasses)
{
    private readonly long[,] _confusion = new long[numClasses, numClasses]; // [true, predicted]

    public long Count { get; private set; }

    public void Add(ReadOnlySpan<long> labels, ReadOnlySpan<long> predictions)
    {
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0 || labels[i] >= numClasses || predictions[i] < 0 || predictions[i] >= numClasses)
                throw new ArgumentOutOfRangeException(nameof(labels), $"label {labels[i]} / prediction {predictions[i]} outside 0..{numClasses - 1}");
            _confusion[labels[i], predictions[i]]++;
            Count++;
        }
    }

    public double Accuracy
    {
        get
        {
            long correct = 0;
            for (int c = 0; c < numClasses; c++) correct += _confusion[c, c];
            return Count == 0 ? 0 : (double)correct / Count;
        }
    }

    /// <summary>Unweighted mean over classes of F1 = 2TP / (2TP + FP + FN); a class absent from both labels and predictions counts as 0 (as scikit-learn's default).</summary>
    public double MacroF1
    {
        get
        {
            double sum = 0;
            for (int c = 0; c < numClasses; c++)
            {
                long tp = _confusion[c, c], fp = 0, fn = 0;
                for (int k = 0; k < numClasses; k++)
                {
                    if (k == c) continue;
                    fp += _confusion[k, c];
                    fn += _confusion[c, k];
                }
                long denom = 2 * tp + fp + fn;
                sum += denom == 0 ? 0 : 2.0 * tp / denom;
            }
            return sum / numClasses;
        }
    }
}
