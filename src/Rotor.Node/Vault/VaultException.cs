namespace Rotor.Node.Vault;

/// <summary>The vault refused an operation; the message names the vault file, key id, epoch or state involved.</summary>
public sealed class VaultException(string message) : Exception(message);
