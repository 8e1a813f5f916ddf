using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Rotor.Node.Vault;

/// <summary>One request on the unseal socket: secrets for the node's provider (either may be absent: then its configured sources are tried again).</summary>
public sealed record UnsealRequest(string? Passphrase = null, string? Pin = null);

/// <summary>The node's answer: sealed or not, why, and its provider.</summary>
public sealed record UnsealReply(bool Sealed, string? Reason, string MasterKey, string Node);

/// <summary>
/// <c>rotor node unseal</c>'s channel to a running node: a Unix domain socket in the node's folder (unseal.sock),
/// created mode 0600, on which the node accepts a connection only from a process of its own user (the peer's uid
/// from SO_PEERCRED must equal the node's effective uid). One JSON line in, one JSON line out. Nothing crosses the
/// network; a secret delivered here lives in memory only. Linux only (elsewhere: restart the node with the secret).
/// </summary>
public sealed class MasterKeyUnseal : IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
    private const int MaxRequestBytes = 16 * 1024;

    private readonly Socket listener;
    private readonly string path;
    private readonly NodeConfig config;
    private readonly NodeState state;
    private readonly CancellationTokenSource stop = new();
    private readonly SemaphoreSlim attempt = new(1, 1);

    private MasterKeyUnseal(Socket listener, string path, NodeConfig config, NodeState state)
    {
        this.listener = listener;
        this.path = path;
        this.config = config;
        this.state = state;
        _ = Task.Run(AcceptLoop);
    }

    /// <summary>Listens on the config's unseal socket; null (with the reason) where that is not possible.</summary>
    public static MasterKeyUnseal? Start(NodeConfig config, NodeState state, out string? unavailable)
    {
        unavailable = null;
        if (!OperatingSystem.IsLinux()) { unavailable = "unseal socket: Linux only"; return null; }
        var path = config.Resolve(config.UnsealSocket);
        if (Encoding.UTF8.GetByteCount(path) > 107) { unavailable = $"unseal socket path {path} is too long for a Unix socket"; return null; }
        File.Delete(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            socket.Listen(4);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new MasterKeyUnseal(socket, path, config, state);
    }

    /// <summary>Opens the vault with the given secrets and unseals the node; on failure it stays sealed with the new reason.</summary>
    public async Task<UnsealReply> TryUnsealAsync(MasterKeySecrets secrets)
    {
        await attempt.WaitAsync();
        try
        {
            if (!state.Sealed) return Reply();
            try
            {
                var (vault, identity) = await Task.Run(() => NodeSetup.OpenVault(config, secrets));
                state.Unseal(vault, identity, NodeHost.LedgerPath(config));
                if (config.SourcePath is { } source)
                {
                    try { MasterKeys.CleanUp(source); }
                    catch (IOException) { }
                }
            }
            catch (Exception e) when (e is MasterKeyUnavailableException or VaultException)
            {
                state.StillSealed(e.Message);
            }
            return Reply();
        }
        finally { attempt.Release(); }
    }

    private UnsealReply Reply() => new(state.Sealed, state.SealReason, state.MasterKey, state.Name);

    private async Task AcceptLoop()
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await listener.AcceptAsync(stop.Token); }
            catch (Exception) when (stop.IsCancellationRequested) { return; }
            catch (SocketException) { continue; }
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(Socket client)
    {
        using var _ = client;
        using var stream = new NetworkStream(client, ownsSocket: false);
        try
        {
            if (PeerUid(client) is not { } uid || uid != geteuid())
            {
                await Write(stream, new { error = "refused: only the node's own user may unseal it" });
                return;
            }
            var line = await ReadLine(stream);
            var request = JsonSerializer.Deserialize<UnsealRequest>(line, Json) ?? new UnsealRequest();
            await Write(stream, await TryUnsealAsync(new MasterKeySecrets(request.Passphrase, request.Pin)));
        }
        catch (Exception e) when (e is IOException or SocketException or JsonException or InvalidDataException)
        {
            try { await Write(stream, new { error = $"bad unseal request: {e.Message}" }); } catch (Exception) { }
        }
    }

    private static async Task<string> ReadLine(Stream stream)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await stream.ReadAsync(one, timeout.Token) == 1 && one[0] != (byte)'\n')
        {
            buffer.Add(one[0]);
            if (buffer.Count > MaxRequestBytes) throw new InvalidDataException("request too long");
        }
        var text = Encoding.UTF8.GetString(buffer.ToArray());
        buffer.Clear();
        return text;
    }

    private static async Task Write<T>(Stream stream, T value)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, Json);
        await stream.WriteAsync(bytes);
        await stream.WriteAsync("\n"u8.ToArray());
        await stream.FlushAsync();
    }

    /// <summary>
    /// Sends secrets to the node whose config is given and returns its answer. Throws <see cref="IOException"/> when no
    /// node listens there.
    /// </summary>
    public static async Task<UnsealReply> SendAsync(NodeConfig config, UnsealRequest request, CancellationToken cancel = default)
    {
        var path = config.Resolve(config.UnsealSocket);
        if (!File.Exists(path)) throw new IOException($"no running node listens on {path}: is node '{config.Name}' running? (a stopped node is unsealed by starting it with its secret)");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try { await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancel); }
        catch (SocketException e) { throw new IOException($"no running node listens on {path} ({e.SocketErrorCode}): is node '{config.Name}' running?", e); }
        using var stream = new NetworkStream(socket, ownsSocket: false);
        await Write(stream, request);
        var line = await ReadLine(stream);
        using var doc = JsonDocument.Parse(line);
        if (doc.RootElement.TryGetProperty("error", out var error)) throw new UnauthorizedAccessException($"node '{config.Name}': {error.GetString()}");
        return doc.RootElement.Deserialize<UnsealReply>(Json) ?? throw new InvalidDataException("empty reply from the node");
    }

    /// <summary>The uid of the peer process (SO_PEERCRED: struct ucred { pid, uid, gid }).</summary>
    private static uint? PeerUid(Socket socket)
    {
        var cred = new byte[12];
        try
        {
            if (socket.GetRawSocketOption(1 /* SOL_SOCKET */, 17 /* SO_PEERCRED */, cred) < 12) return null;
        }
        catch (SocketException) { return null; }
        return BitConverter.ToUInt32(cred, 4);
    }

    [DllImport("libc")] private static extern uint geteuid();

    public void Dispose()
    {
        stop.Cancel();
        listener.Dispose();
        try { File.Delete(path); } catch (IOException) { }
    }
}
