namespace Distill.Training;

/// <summary>Accuracy and macro-F1 from a confusion matrix accumulated batch by batch.</summary>
public sealed class ClassificationMetrics(int numClasses)
{
    private readonly long[,] _confusion = new long[numClasses, numClasses]; // [true, predicted]

    public long Count { get; private set; }

    public int NumClasses => numClasses;

    /// <summary>Examples of true class <paramref name="label"/> predicted as <paramref name="predicted"/>.</summary>
    public long Confusion(int label, int predicted) => _confusion[label, predicted];

    /// <summary>TP / (TP + FP) of class <paramref name="c"/>; 0 when nothing was predicted as it (scikit-learn's zero_division=0).</summary>
    public double Precision(int c)
    {
        long predicted = 0;
        for (int k = 0; k < numClasses; k++) predicted += _confusion[k, c];
        return predicted == 0 ? 0 : (double)_confusion[c, c] / predicted;
    }

    /// <summary>TP / (TP + FN) of class <paramref name="c"/>; 0 when the class has no examples.</summary>
    public double Recall(int c)
    {
        long support = Support(c);
        return support == 0 ? 0 : (double)_confusion[c, c] / support;
    }

    /// <summary>2TP / (2TP + FP + FN) of class <paramref name="c"/>, the term <see cref="MacroF1"/> averages.</summary>
    public double F1(int c)
    {
        long tp = _confusion[c, c], fp = 0, fn = 0;
        for (int k = 0; k < numClasses; k++)
        {
            if (k == c) continue;
            fp += _confusion[k, c];
            fn += _confusion[c, k];
        }
        long denom = 2 * tp + fp + fn;
        return denom == 0 ? 0 : 2.0 * tp / denom;
    }

    /// <summary>Examples whose true class is <paramref name="c"/>.</summary>
    public long Support(int c)
    {
        long n = 0;
        for (int k = 0; k < numClasses; k++) n += _confusion[c, k];
        return n;
    }

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
            for (int c = 0; c < numClasses; c++) sum += F1(c);
            return sum / numClasses;
        }
    }
}
