namespace Distill.Checkpoints;

/// <summary>
/// A complete checkpoint in its temp folder (<c>&lt;dir&gt;.tmp-&lt;pid&gt;</c>), not yet in place. Committing swaps it in
/// (old → <c>.old</c>, temp → dir, delete <c>.old</c>), so a reader sees the previous checkpoint or the new one, never half of
/// one; discarding deletes it. A process that dies before either leaves the temp folder, which the next run under the
/// run folder's lock removes.
/// </summary>
public sealed class StagedCheckpoint
{
    private readonly string _dir;
    private readonly string _tmp;
    private bool _done;

    internal StagedCheckpoint(string dir, string tmp)
    {
        _dir = dir;
        _tmp = tmp;
    }

    public void Commit()
    {
        if (_done) return;
        _done = true;
        string old = _dir + ".old";
        if (Directory.Exists(old)) Directory.Delete(old, true);
        if (Directory.Exists(_dir)) Directory.Move(_dir, old);
        Directory.Move(_tmp, _dir);
        if (Directory.Exists(old)) Directory.Delete(old, true);
    }

    public void Discard()
    {
        if (_done) return;
        _done = true;
        if (Directory.Exists(_tmp)) Directory.Delete(_tmp, true);
    }
}
