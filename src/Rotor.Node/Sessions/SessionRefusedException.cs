namespace Rotor.Node.Sessions;

/// <summary>A node refuses to open or continue a session; the message says why (never anything secret).</summary>
public sealed class SessionRefusedException(string message) : Exception(message);
