using System.Text.Json.Nodes;
using Distill.Checkpoints;
using Distill.Compression.Quantization;
using Distill.Models;
using Distill.Onnx.Runtime;
using Distill.Tests.Runs;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Cli;

/// <summary>
/// <c>distill export --format onnx</c> on a tiny run (CNN on the own-data image folder): the fp32 graph of the
/// baseline and the int8 graph of a ptq quantize stage, each with its report, checked against ONNX Runtime here; and
/// bad input (unknown format or precision, a stage without a model, int8 of a stage without codes) is exit 2 with
/// nothing written.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class OnnxExportCommandTests : IDisposable
{
    private readonly OwnData _data = new();

    public void Dispose() => _data.Dispose();

    private const string Student = "{in_channels: 1, image_size: 8, channels: [16], hidden_size: 128}";
    private const string Teacher = "teacher:\n  model: cnn\n  config: {in_channels: 1, image_size: 8, channels: [8], hidden_size: 16}";

    private string Run(string stages, bool teacher = false)
    {
        string runDir = _data.NewRunDir();
        string recipe = _data.Recipe(student: Student, teacher: teacher ? Teacher : null, stages: stages);
        var (exit, output, err) = CliRunner.Run("run", recipe, "--out", runDir);
        Assert.True(exit == 0, err + output);
        return runDir;
    }

    [Fact]
    public void Fp32_and_int8_exports_run_in_onnx_runtime_with_a_report()
    {
        string runDir = Run("- kind: train_teacher\n- kind: baseline\n- kind: quantize\n  method: ptq\n  bits: 8\n  activation_bits: 8\n  calibration_batches: 2", teacher: true);
        string fp32 = _data["fp32.onnx"], int8 = _data["int8.onnx"];

        var (exit, output, err) = CliRunner.Run("export", runDir, "--stage", "baseline", "--format", "onnx", "--out", fp32);
        Assert.True(exit == 0, err + output);
        Assert.Contains("fp32", output);
        Assert.Contains("latency, batch 1", output); // the table
        var report = OnnxExportReport.Read(fp32 + ".report.json");
        Assert.Equal(new FileInfo(fp32).Length, report.FileBytes);
        Assert.Equal(["pixel_values"], report.Inputs);
        Assert.True(report.MaxAbsDiffLogits <= 1e-4, $"fp32 ORT differs by {report.MaxAbsDiffLogits}");
        Assert.Equal(report.DistillAccuracy, report.OrtAccuracy);
        Assert.Equal(1.0, report.ArgmaxAgreement);
        Assert.True(report.Latency!.TimedRuns >= 30);
        Assert.True(report.Latency.OrtP90Ms >= report.Latency.OrtP50Ms && report.Latency.OrtP50Ms > 0);

        (exit, output, err) = CliRunner.Run("export", runDir, "--stage", "quantize", "--format", "onnx", "--out", int8, "--batch", "4");
        Assert.True(exit == 0, err + output);
        var q = OnnxExportReport.Read(int8 + ".report.json");
        Assert.Equal("int8", q.Precision);
        Assert.True(q.QuantizedWeights > 0 && q.QuantizedActivations > 0);
        Assert.True(q.ArgmaxAgreement >= 0.99, $"argmax agreement {q.ArgmaxAgreement} with the fake-quant model");
        var onnxDump = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(int8));
        Assert.True(q.FileBytes * 3.5 <= q.Fp32FileBytes, $"int8 file {q.FileBytes} bytes vs fp32 {q.Fp32FileBytes}; {q.QuantizedWeights} quantized; initializers: " +
            string.Join(", ", onnxDump.Graph.Initializer.OrderByDescending(t => t.RawData.Length).Take(12).Select(t => $"{t.Name} {t.DataType} {t.RawData.Length}")) + $"; nodes {onnxDump.Graph.Node.Count} {onnxDump.Graph.CalculateSize()}");
        Assert.Equal(4, q.BatchSize);

        // The int8 initializers hold exactly the codes of the stage's grid: decode them and compare with the saved weights.
        var onnx = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(int8));
        string modelDir = Path.Combine(runDir, "models", "quantize");
        var record = QuantizationRecord.Load(modelDir);
        using var model = ModelCheckpoint.Load(CheckpointIO.Locate(modelDir)!, ModelRegistry.Default);
        var state = model.state_dict();
        foreach (var (name, grid) in record.Weights)
        {
            var codes = onnx.Graph.Initializer.Single(t => t.Name.StartsWith(name, StringComparison.Ordinal) && t.Name.EndsWith("_quantized", StringComparison.Ordinal));
            Assert.Equal((int)global::Onnx.TensorProto.Types.DataType.Uint8, codes.DataType); // the grid's codes, zero point 2^(b−1)
            var bytes = codes.RawData.ToByteArray();
            var w = state[name];
            bool transposed = codes.Name.EndsWith("_t_quantized", StringComparison.Ordinal);
            var weights = (transposed ? w.t() : w).contiguous().data<float>().ToArray();
            long cols = transposed ? w.shape[0] : 1;
            long perChannel = w.numel() / grid.Scales.Length;
            for (int i = 0; i < bytes.Length; i++)
            {
                long channel = transposed ? i % cols : i / perChannel;
                float decoded = grid.Scales[channel] * (bytes[i] - grid.ZeroPoints[channel]);
                Assert.Equal(weights[i], decoded);
            }
        }
    }

    [Fact]
    public void The_export_stage_writes_the_onnx_graph_and_its_report_into_summary_json()
    {
        string runDir = Run("- kind: baseline\n- kind: export\n  onnx: true");
        string onnx = Path.Combine(runDir, "artifacts", "export", "model.onnx");
        Assert.True(File.Exists(onnx) && File.Exists(onnx + ".report.json"));
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json")))!;
        var entry = summary["stages"]!.AsArray().Single(s => (string)s!["name"]! == "export")!["onnx"]!;
        Assert.Equal("fp32", (string)entry["precision"]!);
        Assert.Equal(new FileInfo(onnx).Length, (long)entry["file_bytes"]!);
        Assert.True((double)entry["max_abs_diff_logits"]! <= 1e-4);
        Assert.Equal(1.0, (double)entry["argmax_agreement"]!);
    }

    [Fact]
    public void Bench_deploy_retimes_an_exported_graph_on_synthetic_inputs()
    {
        string file = _data["bert.onnx"];
        var model = Distill.Tests.Onnx.OnnxExportParityTests.Seeded(40, () => new Distill.Models.Bert.BertForSequenceClassification(Distill.Tests.Onnx.OnnxExportParityTests.TinyBert()));
        File.WriteAllBytes(file, Distill.Onnx.Export.OnnxExporter.ToBytes(model));
        var (exit, output, err) = CliRunner.Run("bench", "--deploy", file, "--batch", "2", "--sequence", "9");
        Assert.True(exit == 0, err + output);
        Assert.Contains("input_ids [2, 9]", output);
        Assert.Contains("30 runs after 5 warm-up", output);
        (exit, _, err) = CliRunner.Run("bench", "--deploy", _data["missing.onnx"]);
        Assert.Equal(2, exit);
        Assert.Contains("no such ONNX file", err);
    }

    [Fact]
    public void Bad_input_is_exit_2_and_writes_nothing()
    {
        string runDir = Run("- kind: baseline");
        string target = _data["bad.onnx"];
        (string[] Args, string Message)[] cases =
        [
            (["--stage", "baseline", "--format", "tflite"], "--format 'tflite' is not a format export writes; use hf or onnx"),
            (["--stage", "distill", "--format", "onnx"], "stage 'distill' has no final model"),
            (["--stage", "baseline", "--format", "onnx", "--precision", "int4"], "--precision 'int4' is not one of auto, fp32, int8"),
            (["--stage", "baseline", "--format", "onnx", "--precision", "int8"], "left no quantization.safetensors"),
        ];
        foreach (var (args, message) in cases)
        {
            var (exit, output, err) = CliRunner.Run(["export", runDir, .. args, "--out", target]);
            Assert.True(exit == 2, $"{string.Join(' ', args)}: exit {exit}\n{err}{output}");
            Assert.Contains(message, err);
            Assert.False(File.Exists(target));
            Assert.False(File.Exists(target + ".report.json"));
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(target)!, "bad.onnx*"));
        }
    }
}
