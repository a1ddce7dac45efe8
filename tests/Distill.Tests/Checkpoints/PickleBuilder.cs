using System.IO.Compression;
using System.Text;

namespace Distill.Tests.Checkpoints;

/// <summary>
/// Writes pickle opcodes by hand (no Python involved), the way torch.save's protocol-2 pickler lays out a state dict,
/// and packs them into a zip laid out like torch.save's (<c>&lt;top&gt;/data.pkl</c>, <c>&lt;top&gt;/data/&lt;key&gt;</c>,
/// <c>&lt;top&gt;/version</c>, <c>&lt;top&gt;/byteorder</c>, entries stored uncompressed).
/// </summary>
internal sealed class PickleBuilder
{
    private readonly List<byte> _b = [];

    public PickleBuilder Op(params byte[] bytes) { _b.AddRange(bytes); return this; }
    public PickleBuilder Op(char c) => Op((byte)c);
    public PickleBuilder Proto(byte v = 2) => Op(0x80, v);
    public PickleBuilder Stop() => Op('.');
    public PickleBuilder Mark() => Op('(');
    public PickleBuilder Tuple() => Op('t');
    public PickleBuilder EmptyTuple() => Op(')');
    public PickleBuilder EmptyDict() => Op('}');
    public PickleBuilder EmptyList() => Op(']');
    public PickleBuilder SetItem() => Op('s');
    public PickleBuilder SetItems() => Op('u');
    public PickleBuilder Reduce() => Op('R');
    public PickleBuilder Build() => Op('b');
    public PickleBuilder BinPersId() => Op('Q');
    public PickleBuilder False() => Op(0x89);
    public PickleBuilder None() => Op('N');
    public PickleBuilder Put(byte i) => Op((byte)'q', i);
    public PickleBuilder Get(byte i) => Op((byte)'h', i);
    public PickleBuilder Global(string module, string name) => Op('c').Ascii(module + "\n" + name + "\n");

    public PickleBuilder StackGlobal(string module, string name) => ShortStr(module).ShortStr(name).Op(0x93);

    public PickleBuilder Ascii(string s) { _b.AddRange(Encoding.ASCII.GetBytes(s)); return this; }

    /// <summary>BINUNICODE: 'X', 4-byte little-endian length, UTF-8.</summary>
    public PickleBuilder Str(string s)
    {
        var u = Encoding.UTF8.GetBytes(s);
        Op('X');
        _b.AddRange(BitConverter.GetBytes(u.Length));
        _b.AddRange(u);
        return this;
    }

    /// <summary>SHORT_BINUNICODE (protocol 4): 0x8c, 1-byte length.</summary>
    public PickleBuilder ShortStr(string s)
    {
        var u = Encoding.UTF8.GetBytes(s);
        Op(0x8c, (byte)u.Length);
        _b.AddRange(u);
        return this;
    }

    /// <summary>BININT1 / BININT2 / BININT / LONG1, as Python's pickler chooses.</summary>
    public PickleBuilder Int(long n)
    {
        if (n is >= 0 and < 256) return Op((byte)'K', (byte)n);
        if (n is >= 0 and < 65536) return Op((byte)'M', (byte)n, (byte)(n >> 8));
        if (n is >= int.MinValue and <= int.MaxValue) { Op('J'); _b.AddRange(BitConverter.GetBytes((int)n)); return this; }
        var bytes = BitConverter.GetBytes(n); // LONG1 with 8 bytes (two's complement, little-endian)
        Op(0x8a, 8);
        _b.AddRange(bytes);
        return this;
    }

    public PickleBuilder IntTuple(params long[] values)
    {
        if (values.Length == 0) return EmptyTuple();
        Mark();
        foreach (var v in values) Int(v);
        return Tuple();
    }

    /// <summary>
    /// One tensor value as torch.save writes it:
    /// <c>_rebuild_tensor_v2(persistent_load(('storage', torch.&lt;T&gt;Storage, key, 'cpu', numel)), offset, size, stride, False, OrderedDict())</c>.
    /// </summary>
    public PickleBuilder Tensor(string storageType, string key, long numel, long offset, long[] size, long[] stride)
    {
        Global("torch._utils", "_rebuild_tensor_v2");
        Mark();
        Mark().Str("storage").Global("torch", storageType).Str(key).Str("cpu").Int(numel).Tuple().BinPersId();
        Int(offset).IntTuple(size).IntTuple(stride).False();
        Global("collections", "OrderedDict").EmptyTuple().Reduce();
        Tuple();
        return Reduce();
    }

    public byte[] ToArray() => [.. _b];

    /// <summary>Writes a torch.save-like zip.</summary>
    public static void WriteTorchZip(string path, byte[] dataPkl, IReadOnlyDictionary<string, byte[]>? storages = null,
        string top = "archive", string? byteorder = "little", bool compress = false)
    {
        using var fs = new FileStream(path, FileMode.Create);
        using var zip = new ZipArchive(fs, ZipArchiveMode.Create);
        void Add(string name, byte[] bytes)
        {
            var e = zip.CreateEntry(name, compress ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
            using var s = e.Open();
            s.Write(bytes);
        }
        Add($"{top}/data.pkl", dataPkl);
        if (byteorder != null) Add($"{top}/byteorder", Encoding.ASCII.GetBytes(byteorder));
        foreach (var (k, v) in storages ?? new Dictionary<string, byte[]>()) Add($"{top}/data/{k}", v);
        Add($"{top}/version", "3\n"u8.ToArray());
    }
}
