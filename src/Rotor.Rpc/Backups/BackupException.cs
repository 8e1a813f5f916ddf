namespace Rotor.Rpc.Backups;

/// <summary>Why a backup file was refused.</summary>
public enum BackupFault
{
    /// <summary>The bytes are not a backup file (not JSON, a missing or invalid field, a bad encoding).</summary>
    Malformed,
    /// <summary>The file ends early: it was cut off while being written or copied.</summary>
    Truncated,
    /// <summary>The file is a backup of another format version or uses parameters this version does not know.</summary>
    Unsupported,
    /// <summary>The passphrase does not open the file.</summary>
    WrongPassphrase,
    /// <summary>The file is sealed to another recipient key, or needs a key of the other kind (passphrase vs recipient key).</summary>
    WrongKey,
    /// <summary>The file was altered after it was written: a field or a ciphertext fails authentication.</summary>
    Tampered,
    /// <summary>A restore was refused: a shard is stale, or the backup belongs to another node. Nothing changed.</summary>
    Refused,
    /// <summary>A backup was asked for a recipient key this node has not pinned, or in a mode it never makes over the network.</summary>
    NotAllowed,
}

/// <summary>A backup could not be read, opened or restored; the message says which file, which wallet and why.</summary>
public sealed class BackupException : Exception
{
    public BackupException(BackupFault fault, string message) : base(message) => Fault = fault;

    public BackupFault Fault { get; }
}
