using System.Buffers.Binary;
using System.Text;
using static TorchSharp.torch;

namespace Distill.Checkpoints;

/// <summary>
/// A pickle virtual machine that builds data and never executes anything. It implements only the opcodes
/// <c>torch.save</c> emits for a state dict (protocol 2, plus the harmless protocol-4 framing and memo opcodes) and
/// resolves only an allow-list of globals: <c>collections.OrderedDict</c>, <c>torch._utils._rebuild_tensor_v2</c>,
/// <c>torch._utils._rebuild_parameter</c> and the typed storage classes. "Calling" one of them (REDUCE) is interpreted
/// here, by name, into a data record; nothing is looked up or invoked dynamically. Every other opcode or global is
/// refused with a <see cref="PickleSecurityException"/> naming it. Every read is bounds-checked, so truncated or
/// corrupt input ends in a <see cref="PyTorchCheckpointException"/>; every opcode consumes at least one byte, so the
/// loop always terminates.
/// </summary>
internal sealed class RestrictedUnpickler
{
    private static readonly Dictionary<string, ScalarType> StorageTypes = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = ScalarType.Float32, ["HalfStorage"] = ScalarType.Float16, ["BFloat16Storage"] = ScalarType.BFloat16,
        ["LongStorage"] = ScalarType.Int64, ["IntStorage"] = ScalarType.Int32, ["BoolStorage"] = ScalarType.Bool,
        ["ByteStorage"] = ScalarType.Byte, ["DoubleStorage"] = ScalarType.Float64,
    };

    /// <summary>The globals a state dict may reference, for error messages.</summary>
    internal static string AllowedGlobals =>
        "collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter, "
        + string.Join(", ", StorageTypes.Keys.Select(k => "torch." + k));

    private static readonly Dictionary<byte, string> OpcodeNames = new()
    {
        [(byte)'('] = "MARK", [(byte)'.'] = "STOP", [(byte)'0'] = "POP", [(byte)'1'] = "POP_MARK", [(byte)'2'] = "DUP",
        [(byte)'F'] = "FLOAT", [(byte)'I'] = "INT", [(byte)'J'] = "BININT", [(byte)'K'] = "BININT1", [(byte)'L'] = "LONG",
        [(byte)'M'] = "BININT2", [(byte)'N'] = "NONE", [(byte)'P'] = "PERSID", [(byte)'Q'] = "BINPERSID", [(byte)'R'] = "REDUCE",
        [(byte)'S'] = "STRING", [(byte)'T'] = "BINSTRING", [(byte)'U'] = "SHORT_BINSTRING", [(byte)'V'] = "UNICODE",
        [(byte)'X'] = "BINUNICODE", [(byte)'a'] = "APPEND", [(byte)'b'] = "BUILD", [(byte)'c'] = "GLOBAL", [(byte)'d'] = "DICT",
        [(byte)'}'] = "EMPTY_DICT", [(byte)'e'] = "APPENDS", [(byte)'g'] = "GET", [(byte)'h'] = "BINGET", [(byte)'i'] = "INST",
        [(byte)'j'] = "LONG_BINGET", [(byte)'l'] = "LIST", [(byte)']'] = "EMPTY_LIST", [(byte)'o'] = "OBJ", [(byte)'p'] = "PUT",
        [(byte)'q'] = "BINPUT", [(byte)'r'] = "LONG_BINPUT", [(byte)'s'] = "SETITEM", [(byte)'t'] = "TUPLE", [(byte)')'] = "EMPTY_TUPLE",
        [(byte)'u'] = "SETITEMS", [(byte)'G'] = "BINFLOAT", [0x80] = "PROTO", [0x81] = "NEWOBJ", [0x82] = "EXT1", [0x83] = "EXT2",
        [0x84] = "EXT4", [0x85] = "TUPLE1", [0x86] = "TUPLE2", [0x87] = "TUPLE3", [0x88] = "NEWTRUE", [0x89] = "NEWFALSE",
        [0x8a] = "LONG1", [0x8b] = "LONG4", [(byte)'B'] = "BINBYTES", [(byte)'C'] = "SHORT_BINBYTES", [0x8c] = "SHORT_BINUNICODE",
        [0x8d] = "BINUNICODE8", [0x8e] = "BINBYTES8", [0x8f] = "EMPTY_SET", [0x90] = "ADDITEMS", [0x91] = "FROZENSET",
        [0x92] = "NEWOBJ_EX", [0x93] = "STACK_GLOBAL", [0x94] = "MEMOIZE", [0x95] = "FRAME", [0x96] = "BYTEARRAY8",
        [0x97] = "NEXT_BUFFER", [0x98] = "READONLY_BUFFER",
    };

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Marker pushed by MARK (Python 2 style single stack keeps the code short; positions are tracked too).</summary>
    private sealed class Mark { public static readonly Mark Instance = new(); }

    private readonly byte[] _data;
    private readonly string _where;
    private readonly Func<PickleGlobal, string, string, long, PickleStorage> _persistentLoad;
    private readonly List<object?> _stack = new();
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = new();
    private int _pos;
    private int _opStart;

    /// <param name="data">The pickle bytes.</param>
    /// <param name="where">"file: entry" used as the prefix of every message.</param>
    /// <param name="persistentLoad">Resolves a storage persistent id (type, key, location, numel); may throw
    /// <see cref="PyTorchCheckpointException"/> when the storage is absent or too short.</param>
    public RestrictedUnpickler(byte[] data, string where, Func<PickleGlobal, string, string, long, PickleStorage> persistentLoad)
    {
        _data = data;
        _where = where;
        _persistentLoad = persistentLoad;
    }

    /// <summary>Runs the pickle to its STOP opcode and returns the top object.</summary>
    public object? Load()
    {
        while (_pos < _data.Length)
        {
            _opStart = _pos;
            byte op = _data[_pos++];
            switch (op)
            {
                case 0x80: // PROTO
                    {
                        byte v = ReadByte();
                        if (v > 5) throw Format($"pickle protocol {v} is newer than any torch.save writes (2..5 supported)");
                        break;
                    }
                case 0x95: // FRAME: a length hint for buffered reading; the data follows inline
                    {
                        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(Read(8));
                        if (n > (ulong)(_data.Length - _pos)) throw Format($"FRAME of {n} bytes runs past the end of the pickle");
                        break;
                    }
                case (byte)'.': // STOP
                    {
                        if (_marks.Count > 0) throw Format("STOP with an unclosed MARK");
                        return Pop();
                    }
                case (byte)'(': _marks.Push(_stack.Count); _stack.Add(Mark.Instance); break;
                case (byte)'}': Push(new PickleDict()); break;
                case (byte)']': Push(new List<object?>()); break;
                case (byte)')': Push(Array.Empty<object?>()); break;
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case (byte)'t': Push(PopMark().ToArray()); break;
                case 0x85: { var a = Pop(); Push(new[] { a }); break; }
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                case (byte)'q': _memo[ReadByte()] = Peek(); break;
                case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Read(4))] = Peek(); break;
                case 0x94: _memo[_memo.Count] = Peek(); break; // MEMOIZE
                case (byte)'h': Push(MemoGet(ReadByte())); break;
                case (byte)'j': Push(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(Read(4)))); break;
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Read(4))); break;
                case (byte)'K': Push((long)ReadByte()); break;
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Read(2))); break;
                case 0x8a: Push(ReadLong1()); break;
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Read(8))); break;
                case (byte)'X': Push(ReadString(BinaryPrimitives.ReadUInt32LittleEndian(Read(4)))); break;
                case 0x8c: Push(ReadString(ReadByte())); break;
                case (byte)'s': { var v = Pop(); var k = Pop(); SetItem(Peek(), k, v); break; }
                case (byte)'u':
                    {
                        var items = PopMark();
                        if (items.Count % 2 != 0) throw Format("SETITEMS with an odd number of items");
                        var target = Peek();
                        for (int i = 0; i < items.Count; i += 2) SetItem(target, items[i], items[i + 1]);
                        break;
                    }
                case (byte)'a': { var v = Pop(); AsList(Peek()).Add(v); break; }
                case (byte)'e': { var items = PopMark(); AsList(Peek()).AddRange(items); break; }
                case (byte)'c': Push(ResolveGlobal(ReadLine(), ReadLine())); break;
                case 0x93: // STACK_GLOBAL
                    {
                        var name = Pop(); var module = Pop();
                        if (module is not string m || name is not string n) throw Format("STACK_GLOBAL operands are not two strings");
                        Push(ResolveGlobal(m, n));
                        break;
                    }
                case (byte)'R': { var args = Pop(); var fn = Pop(); Push(Reduce(fn, args)); break; }
                case (byte)'Q': Push(PersistentLoad(Pop())); break;
                case (byte)'b': Build(); break;
                default:
                    throw Security($"opcode {OpName(op)} is not allowed in a state dict (only data-building opcodes are)");
            }
        }
        throw Format("the pickle ends without a STOP opcode (truncated)");
    }

    private static string OpName(byte op) =>
        OpcodeNames.TryGetValue(op, out var name)
            ? $"{name} (0x{op:X2}{(op is >= 0x20 and < 0x7f ? $" '{(char)op}'" : "")})"
            : $"0x{op:X2} (not a pickle opcode)";

    private object? ResolveGlobal(string module, string name)
    {
        if (module == "collections" && name == "OrderedDict") return new PickleGlobal(module, name, PickleGlobalKind.OrderedDict, default);
        if (module == "torch._utils" && name == "_rebuild_tensor_v2") return new PickleGlobal(module, name, PickleGlobalKind.RebuildTensorV2, default);
        if (module == "torch._utils" && name == "_rebuild_parameter") return new PickleGlobal(module, name, PickleGlobalKind.RebuildParameter, default);
        if (module == "torch" && StorageTypes.TryGetValue(name, out var st)) return new PickleGlobal(module, name, PickleGlobalKind.Storage, st);
        throw Security($"global '{Printable(module)}.{Printable(name)}' is not allowed in a state dict (allowed: {AllowedGlobals})");
    }

    /// <summary>
    /// <c>OrderedDict()</c> as torch.save writes it, or <c>OrderedDict(pairs)</c> with one tuple or list of (string key,
    /// value) pairs, as other writers of the format do (TorchSharp.PyBridge passes an empty tuple). Data only: nothing is called.
    /// </summary>
    private PickleDict OrderedDictFrom(object?[] args)
    {
        var dict = new PickleDict { Ordered = true };
        if (args.Length == 0) return dict;
        if (args.Length != 1) throw Format($"collections.OrderedDict is called with {args.Length} arguments (at most one: its items)");
        IEnumerable<object?> items = args[0] switch
        {
            object?[] tuple => tuple,
            List<object?> list => list,
            _ => throw Format($"collections.OrderedDict is called with {Describe(args[0])}, not a tuple or list of items"),
        };
        foreach (var item in items)
        {
            var pair = item switch
            {
                object?[] { Length: 2 } t => t,
                List<object?> { Count: 2 } l => l.ToArray(),
                _ => throw Format($"collections.OrderedDict item is {Describe(item)}, not a (key, value) pair"),
            };
            if (pair[0] is not string key) throw Format($"collections.OrderedDict key is {Describe(pair[0])}, not a string");
            dict.Set(key, pair[1]);
        }
        return dict;
    }

    private object? Reduce(object? fn, object? args)
    {
        if (fn is not PickleGlobal g) throw Security($"REDUCE calls {Describe(fn)}, not an allowed global");
        if (args is not object?[] a) throw Format($"REDUCE arguments of {g.FullName} are {Describe(args)}, not a tuple");
        switch (g.Kind)
        {
            case PickleGlobalKind.OrderedDict:
                return OrderedDictFrom(a);
            case PickleGlobalKind.RebuildTensorV2:
                {
                    // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
                    if (a.Length is not (6 or 7)) throw Format($"_rebuild_tensor_v2 takes 6 or 7 arguments, got {a.Length}");
                    if (a[0] is not PickleStorage storage) throw Format($"_rebuild_tensor_v2 argument 0 is {Describe(a[0])}, not a storage");
                    if (a[1] is not long offset) throw Format("_rebuild_tensor_v2 storage_offset is not an integer");
                    long[] size = IntTuple(a[2], "size"), stride = IntTuple(a[3], "stride");
                    if (a[4] is not bool) throw Format("_rebuild_tensor_v2 requires_grad is not a bool");
                    CheckNoHooks(a[5], "_rebuild_tensor_v2");
                    if (a.Length == 7 && a[6] is not (null or PickleDict)) throw Format("_rebuild_tensor_v2 metadata is not a dict");
                    return new PickleTensor(storage, offset, size, stride);
                }
            case PickleGlobalKind.RebuildParameter:
                {
                    // (data, requires_grad, backward_hooks)
                    if (a.Length != 3) throw Format($"_rebuild_parameter takes 3 arguments, got {a.Length}");
                    if (a[0] is not PickleTensor t) throw Format($"_rebuild_parameter data is {Describe(a[0])}, not a tensor");
                    if (a[1] is not bool) throw Format("_rebuild_parameter requires_grad is not a bool");
                    CheckNoHooks(a[2], "_rebuild_parameter");
                    return t;
                }
            default:
                throw Security($"{g.FullName} is a storage class; calling it is not allowed (storages come only from persistent ids)");
        }
    }

    private void CheckNoHooks(object? hooks, string fn)
    {
        if (hooks is PickleDict { Items.Count: 0 } or null) return;
        throw Security($"{fn} carries backward hooks, which would be code; a state dict has none");
    }

    private long[] IntTuple(object? v, string what)
    {
        if (v is not object?[] items) throw Format($"tensor {what} is {Describe(v)}, not a tuple");
        var r = new long[items.Length];
        for (int i = 0; i < items.Length; i++)
            r[i] = items[i] is long n ? n : throw Format($"tensor {what}[{i}] is {Describe(items[i])}, not an integer");
        return r;
    }

    private object PersistentLoad(object? pid)
    {
        if (pid is not object?[] { Length: 5 } t || t[0] is not "storage")
            throw Format($"persistent id is {Describe(pid)}, not ('storage', type, key, location, numel)");
        if (t[1] is not PickleGlobal { Kind: PickleGlobalKind.Storage } type) throw Format($"persistent id names {Describe(t[1])}, not a storage class");
        if (t[2] is not string key) throw Format("persistent id key is not a string");
        if (t[3] is not string location) throw Format("persistent id location is not a string");
        if (t[4] is not long numel || numel < 0) throw Format("persistent id numel is not a non-negative integer");
        try { return _persistentLoad(type, key, location, numel); }
        catch (PyTorchCheckpointException e) { throw new PyTorchCheckpointException($"{_where} byte {_opStart}: {e.Message}"); }
    }

    private void Build()
    {
        var state = Pop();
        var target = Peek();
        // torch.save(module.state_dict()) pickles the OrderedDict's __dict__ ({'_metadata': ...}) with BUILD. That is the
        // only BUILD a state dict needs; the state is data and is ignored. BUILD on anything else would call __setstate__.
        if (target is PickleDict { Ordered: true } && state is PickleDict or null) return;
        throw Security($"opcode BUILD on {Describe(target)} is not allowed (only an OrderedDict's attribute dict is accepted)");
    }

    private void SetItem(object? target, object? key, object? value)
    {
        if (target is not PickleDict d) throw Format($"SETITEM(S) on {Describe(target)}, not a dict");
        if (key is not string k) throw Format($"dict key is {Describe(key)}, not a string (not a state dict)");
        d.Set(k, value);
    }

    private List<object?> AsList(object? v) => v as List<object?> ?? throw Format($"APPEND(S) on {Describe(v)}, not a list");

    private object? MemoGet(long i) => _memo.TryGetValue(i, out var v) ? v : throw Format($"memo entry {i} is read before it is written");

    private long ReadLong1()
    {
        int n = ReadByte();
        if (n > 8) throw Format($"LONG1 integer of {n} bytes is too large for a state dict");
        var b = Read(n);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) v = (v << 8) | b[i];
        if (n is > 0 and < 8 && (b[n - 1] & 0x80) != 0) v -= 1L << (8 * n); // two's complement sign
        return v;
    }

    private string ReadString(long n)
    {
        if (n > _data.Length - _pos) throw Format($"string of {n} bytes runs past the end of the pickle (truncated?)");
        try { return StrictUtf8.GetString(Read((int)n)); }
        catch (DecoderFallbackException) { throw Format("string is not valid UTF-8"); }
    }

    private string ReadLine()
    {
        int limit = Math.Min(_data.Length, _pos + 256);
        int end = Array.IndexOf(_data, (byte)'\n', _pos, limit - _pos);
        if (end < 0) throw Format("GLOBAL name is not newline-terminated within 256 bytes");
        var s = Encoding.ASCII.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return s;
    }

    private byte ReadByte() => _pos < _data.Length ? _data[_pos++] : throw Format("the pickle ends in the middle of an opcode (truncated)");

    private ReadOnlySpan<byte> Read(int n)
    {
        if (n > _data.Length - _pos) throw Format("the pickle ends in the middle of an opcode (truncated)");
        var s = _data.AsSpan(_pos, n);
        _pos += n;
        return s;
    }

    private void Push(object? v) => _stack.Add(v);

    private object? Peek()
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _marks.Peek() == _stack.Count - 1)) throw Format("stack underflow");
        return _stack[^1];
    }

    private object? Pop()
    {
        var v = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private List<object?> PopMark()
    {
        if (_marks.Count == 0) throw Format("an opcode needs a MARK but none is open");
        int at = _marks.Pop();
        var items = _stack.GetRange(at + 1, _stack.Count - at - 1);
        _stack.RemoveRange(at, _stack.Count - at);
        return items;
    }

    /// <summary>A value's Python type with its article, for messages ("a tuple", "an integer", "global os.system").</summary>
    private static string Describe(object? v) => v switch
    {
        null => "None",
        string => "a string",
        long => "an integer",
        double => "a float",
        bool => "a bool",
        object?[] => "a tuple",
        List<object?> => "a list",
        PickleDict { Ordered: true } => "an OrderedDict",
        PickleDict => "a dict",
        PickleGlobal g => $"global {g.FullName}",
        PickleStorage => "a storage",
        PickleTensor => "a tensor",
        _ => v.GetType().Name,
    };

    private static string Printable(string s) =>
        new(s.Select(c => c is >= ' ' and < (char)0x7f ? c : '?').Take(100).ToArray());

    private PyTorchCheckpointException Format(string what) => new($"{_where} byte {_opStart}: {what}.");

    private PickleSecurityException Security(string what) => new($"{_where} byte {_opStart}: refused: {what}.");
}
