namespace Rotor.Coordinator;

/// <summary>
/// What the operations desk adds to a reshare: new members that may be offline (the dealers deal to them as to
/// everyone; their sealed envelopes are handed to <see cref="Hold"/> before the commit), and a time after which the
/// reshare must not commit (the end of its maintenance window).
/// </summary>
/// <param name="Hold">Receives, for each absent member, the event id and the envelopes addressed to it.</param>
public sealed record ReshareOptions(IReadOnlyList<string> AllowOffline, DateTimeOffset? CommitBy, Action<string, string, IReadOnlyList<byte[]>> Hold);
