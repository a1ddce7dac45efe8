using System.Text;
using Distill.Checkpoints;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Checkpoints;

/// <summary>
/// Crafted malformed safetensors files: each must be refused with a <see cref="SafeTensorsFormatException"/> whose message
/// names the file and the specific problem. Plus a mutation fuzz loop proving nothing else ever comes out.
/// </summary>
public sealed class SafeTensorsMalformedTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    /// <summary>8-byte little-endian length (the header's own byte count unless overridden), header, data.</summary>
    internal static byte[] Craft(string header, byte[]? data = null, ulong? lengthField = null) =>
        Craft(Encoding.UTF8.GetBytes(header), data, lengthField);

    internal static byte[] Craft(byte[] header, byte[]? data = null, ulong? lengthField = null)
    {
        data ??= [];
        var bytes = new byte[8 + header.Length + data.Length];
        BitConverter.GetBytes(lengthField ?? (ulong)header.Length).CopyTo(bytes, 0);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    private static string Entry(string name, string dtype, string shape, string offsets) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":{offsets}}}";

    public static TheoryData<string, string> Cases => new()
    {
        { "empty-file", "shorter than the 8-byte header length" },
        { "truncated-length-field", "shorter than the 8-byte header length" },
        { "header-beyond-file", "runs past the end of the file" },
        { "huge-header-length", "exceeds the 100000000-byte limit" },
        { "header-not-object-start", "does not start with '{'" },
        { "trailing-garbage", "not valid JSON" },
        { "duplicate-key", "key 'a' appears twice" },
        { "offsets-beyond-data", "ends at byte 16 of the data section, which has only 8 bytes" },
        { "overlapping-ranges", "overlap in the data section" },
        { "dtype-shape-mismatch", "F32 shape [3] needs 12 bytes but data_offsets [0, 8] span 8" },
        { "unsupported-dtype", "unsupported dtype 'F7'" },
        { "negative-dim", "shape entry that is not a non-negative integer" },
        { "end-before-begin", "invalid data_offsets" },
        { "string-offsets", "invalid data_offsets" },
        { "invalid-utf8", "not valid UTF-8" },
        { "shape-overflow", "whose size overflows" },
        { "empty-tensor-huge-dims", "whose size overflows" },
        { "metadata-not-string", "__metadata__.v is not a string" },
        { "lone-surrogate-name", "cannot be decoded" },
        { "unknown-field", "unknown field 'extra'" },
        { "entry-not-object", "tensor 'a' is not an object" },
        { "too-deep", "not valid JSON" },
        { "header-too-short", "too short to hold a JSON object" },
        { "root-not-object-after-brace", "not valid JSON" },
    };

    private static byte[] Build(string name) => name switch
    {
        "empty-file" => [],
        "truncated-length-field" => [16, 0, 0, 0, 0],
        "header-beyond-file" => Craft("{}", lengthField: 1000),
        "huge-header-length" => Craft("{}", lengthField: ulong.MaxValue),
        "header-not-object-start" => Craft("[1,2]"),
        "trailing-garbage" => Craft("{" + Entry("a", "F32", "[1]", "[0,4]") + "}xyz", new byte[4]),
        "duplicate-key" => Craft("{" + Entry("a", "F32", "[1]", "[0,4]") + "," + Entry("a", "F32", "[1]", "[4,8]") + "}", new byte[8]),
        "offsets-beyond-data" => Craft("{" + Entry("a", "F32", "[4]", "[0,16]") + "}", new byte[8]),
        "overlapping-ranges" => Craft("{" + Entry("a", "F32", "[2]", "[0,8]") + "," + Entry("b", "F32", "[2]", "[4,12]") + "}", new byte[12]),
        "dtype-shape-mismatch" => Craft("{" + Entry("a", "F32", "[3]", "[0,8]") + "}", new byte[8]),
        "unsupported-dtype" => Craft("{" + Entry("a", "F7", "[1]", "[0,1]") + "}", new byte[1]),
        "negative-dim" => Craft("{" + Entry("a", "F32", "[-1]", "[0,4]") + "}", new byte[4]),
        "end-before-begin" => Craft("{" + Entry("a", "U8", "[0]", "[8,4]") + "}", new byte[8]),
        "string-offsets" => Craft("{" + Entry("a", "F32", "[1]", "[\"0\",\"4\"]") + "}", new byte[4]),
        "invalid-utf8" => Craft([.. Encoding.ASCII.GetBytes("{\"a"), 0xff, .. Encoding.ASCII.GetBytes("\":{}}")]),
        "shape-overflow" => Craft("{" + Entry("a", "F32", "[4294967296,4294967296]", "[0,4]") + "}", new byte[4]),
        "empty-tensor-huge-dims" => Craft("{" + Entry("a", "F32", "[0,4611686018427387904,4611686018427387904]", "[0,0]") + "}"),
        "metadata-not-string" => Craft("{\"__metadata__\":{\"v\":1}}"),
        "lone-surrogate-name" => Craft("{\"\\ud800\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", new byte[4]),
        "unknown-field" => Craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", new byte[4]),
        "entry-not-object" => Craft("{\"a\":5}"),
        "too-deep" => Craft("{\"__metadata__\":" + new string('[', 200) + new string(']', 200) + "}"),
        "header-too-short" => Craft("{"),
        "root-not-object-after-brace" => Craft("{]"),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MalformedFileIsRejectedWithItsNameAndTheProblem(string name, string expected)
    {
        string path = _tmp.File(name + ".safetensors");
        File.WriteAllBytes(path, Build(name));
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
        // The header-only reader refuses the same files.
        Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.ReadHeader(path));
    }

    [Fact]
    public void InvalidUtf8CaseReallyHoldsAnInvalidByte()
    {
        // Guard for the crafted case above: the byte 0xFF must be in the header, not a replacement character.
        Assert.Contains((byte)0xff, Build("invalid-utf8"));
    }

    [Fact]
    public void MissingFileIsAFileNotFoundNamingThePath()
    {
        string path = _tmp.File("nope.safetensors");
        var e = Assert.Throws<FileNotFoundException>(() => SafeTensors.Load(path));
        Assert.Contains(path, e.Message);
    }

    /// <summary>A small valid file: three tensors of different dtypes plus metadata.</summary>
    private byte[] SmallValidFile()
    {
        string path = _tmp.File("seed.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor>
        {
            ["layer.weight"] = torch.arange(6f).reshape(2, 3),
            ["layer.ids"] = torch.tensor(new long[] { 3, 4 }),
            ["norm.gamma"] = torch.ones(4, ScalarType.BFloat16),
        }, new Dictionary<string, string> { ["format"] = "pt" });
        return File.ReadAllBytes(path);
    }

    [Fact]
    public async Task FuzzedCopiesOfAValidFileOnlyEverFailWithTheFormatException()
    {
        byte[] seed = SmallValidFile();
        int headerEnd = 8 + (int)BitConverter.ToUInt64(seed, 0);
        const string jsonChars = "{}[]\",:0123456789-.eE \\u";
        var rng = new Random(20240611);
        int rejected = 0, accepted = 0;
        var failures = new List<string>();
        string path = _tmp.File("fuzz.safetensors");

        var work = Task.Run(() =>
        {
            for (int i = 0; i < 300; i++)
            {
                byte[] b = (byte[])seed.Clone();
                int kind = i % 5;
                switch (kind)
                {
                    case 0: // flip bits in the length field or header
                        for (int n = rng.Next(1, 4); n > 0; n--) b[rng.Next(headerEnd)] ^= (byte)(1 << rng.Next(8));
                        break;
                    case 1: // overwrite a length byte
                        b[rng.Next(8)] = (byte)rng.Next(256);
                        break;
                    case 2: // truncate anywhere
                        b = b[..rng.Next(b.Length)];
                        break;
                    case 3: // replace header bytes with JSON-significant characters
                        for (int n = rng.Next(1, 4); n > 0; n--) b[8 + rng.Next(headerEnd - 8)] = (byte)jsonChars[rng.Next(jsonChars.Length)];
                        break;
                    default: // insert random bytes into the header (length field now disagrees)
                        int at = 8 + rng.Next(headerEnd - 8);
                        var ins = new byte[rng.Next(1, 9)];
                        rng.NextBytes(ins);
                        b = [.. b[..at], .. ins, .. b[at..]];
                        break;
                }
                File.WriteAllBytes(path, b);
                try
                {
                    var loaded = SafeTensors.Load(path);
                    foreach (var t in loaded.Values) t.Dispose();
                    accepted++;
                }
                catch (SafeTensorsFormatException e)
                {
                    if (!e.Message.Contains(path)) failures.Add($"case {i}: message lacks the path: {e.Message}");
                    rejected++;
                }
                catch (Exception e)
                {
                    failures.Add($"case {i} (kind {kind}): {e.GetType().Name}: {e.Message}");
                }
            }
        });
        await work.WaitAsync(TimeSpan.FromSeconds(120)); // TimeoutException = a hang
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(300, rejected + accepted);
        Assert.True(rejected > 200, $"only {rejected} of 300 mutations were rejected; the fuzzer is not exercising the checks");
    }
}
