using System.Security.Cryptography;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Rotor.Node.Vault;

/// <summary>
/// The pkcs11 master key: a non-extractable, sensitive AES-256 key in an HSM token, found by its label, that
/// encrypts and decrypts the vault root with CKM_AES_GCM inside the token (a fresh 96-bit IV each time, the node's
/// binding as associated data). The key's value never leaves the token. One PKCS#11 session per use, under a
/// process-wide lock (a module is initialised once per process at a time); the module is unloaded after each use.
/// </summary>
public static class MasterKeyPkcs11
{
    private const int IvLength = 12, TagBits = 128;
    private static readonly object Gate = new();
    private static readonly Pkcs11InteropFactories Factories = new();

    static MasterKeyPkcs11()
    {
        // Pkcs11Interop binds dlopen from "libdl"; glibc 2.34+ ships only libdl.so.2 (no unversioned libdl.so
        // without the dev package), so the name is resolved here.
        try
        {
            System.Runtime.InteropServices.NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, (name, assembly, path) =>
                name == "libdl" && OperatingSystem.IsLinux()
                && (System.Runtime.InteropServices.NativeLibrary.TryLoad("libdl.so.2", out var handle) || System.Runtime.InteropServices.NativeLibrary.TryLoad("libc.so.6", out handle))
                    ? handle : IntPtr.Zero);
        }
        catch (InvalidOperationException) { } // a resolver is already set (by the host)
    }

    /// <summary>Encrypts <paramref name="plaintext"/> under the token's key (created first when absent and <paramref name="create"/>). Returns (iv, ciphertext‖tag).</summary>
    public static (byte[] Iv, byte[] Ciphertext) Encrypt(Pkcs11Settings settings, string pin, ReadOnlySpan<byte> plaintext, byte[] aad, bool create)
    {
        var data = plaintext.ToArray();
        try
        {
            return Use(settings, pin, session =>
            {
                var key = FindKey(session, settings.KeyLabel) ?? (create ? CreateKey(session, settings.KeyLabel)
                    : throw new MasterKeyUnavailableException($"the token holds no AES key labelled '{settings.KeyLabel}'"));
                var iv = RandomNumberGenerator.GetBytes(IvLength);
                var ct = session.Encrypt(Gcm(iv, aad), key, data);
                return (iv, ct);
            });
        }
        finally { CryptographicOperations.ZeroMemory(data); }
    }

    /// <summary>Decrypts what <see cref="Encrypt"/> made. The caller wipes the result.</summary>
    public static byte[] Decrypt(Pkcs11Settings settings, string pin, byte[] iv, byte[] ciphertext, byte[] aad) => Use(settings, pin, session =>
    {
        var key = FindKey(session, settings.KeyLabel)
            ?? throw new MasterKeyUnavailableException($"the token holds no AES key labelled '{settings.KeyLabel}' (wrong token, or the key was deleted)");
        try { return session.Decrypt(Gcm(iv, aad), key, ciphertext); }
        catch (Pkcs11Exception e) when (e.RV is CKR.CKR_ENCRYPTED_DATA_INVALID or CKR.CKR_ENCRYPTED_DATA_LEN_RANGE or CKR.CKR_GENERAL_ERROR or CKR.CKR_FUNCTION_FAILED)
        {
            throw new MasterKeyUnavailableException($"the HSM key '{settings.KeyLabel}' does not unwrap this node's vault key ({e.RV}): another key with that label, or an altered wrapping");
        }
    });

    private static IMechanism Gcm(byte[] iv, byte[] aad) =>
        Factories.MechanismFactory.Create(CKM.CKM_AES_GCM, Factories.MechanismParamsFactory.CreateCkGcmParams(iv, (ulong)iv.Length * 8, aad, TagBits));

    private static T Use<T>(Pkcs11Settings settings, string pin, Func<ISession, T> action)
    {
        lock (Gate)
        {
            IPkcs11Library library;
            try { library = Factories.Pkcs11LibraryFactory.LoadPkcs11Library(Factories, settings.Library, AppType.MultiThreaded); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new MasterKeyUnavailableException($"the PKCS#11 library {settings.Library} could not be loaded: {e.Message}", e);
            }
            using (library)
            {
                var slot = FindSlot(library, settings);
                try
                {
                    using var session = slot.OpenSession(SessionType.ReadWrite);
                    try { session.Login(CKU.CKU_USER, pin); }
                    catch (Pkcs11Exception e) when (e.RV == CKR.CKR_USER_ALREADY_LOGGED_IN) { }
                    try { return action(session); }
                    finally
                    {
                        try { session.Logout(); } catch (Pkcs11Exception) { }
                    }
                }
                catch (Pkcs11Exception e) when (e.RV is CKR.CKR_PIN_INCORRECT or CKR.CKR_PIN_INVALID or CKR.CKR_PIN_LEN_RANGE)
                {
                    throw new MasterKeyUnavailableException($"the token refused the PIN ({e.RV}): wrong PIN");
                }
                catch (Pkcs11Exception e) when (e.RV is CKR.CKR_PIN_LOCKED or CKR.CKR_PIN_EXPIRED)
                {
                    throw new MasterKeyUnavailableException($"the token's user PIN is unusable ({e.RV}): the security officer must reset it");
                }
                catch (Pkcs11Exception e) when (e.RV is CKR.CKR_TOKEN_NOT_PRESENT or CKR.CKR_DEVICE_REMOVED or CKR.CKR_DEVICE_ERROR or CKR.CKR_TOKEN_NOT_RECOGNIZED or CKR.CKR_SESSION_HANDLE_INVALID)
                {
                    throw new MasterKeyUnavailableException($"the HSM token is not available ({e.RV})");
                }
                catch (Pkcs11Exception e) when (e.RV is CKR.CKR_MECHANISM_INVALID or CKR.CKR_MECHANISM_PARAM_INVALID)
                {
                    throw new MasterKeyUnavailableException($"the token does not support AES-GCM encryption with its keys ({e.RV})");
                }
            }
        }
    }

    private static ISlot FindSlot(IPkcs11Library library, Pkcs11Settings settings)
    {
        var slots = library.GetSlotList(SlotsType.WithTokenPresent);
        if (settings.Slot is { } id)
            return slots.FirstOrDefault(s => s.SlotId == id)
                ?? throw new MasterKeyUnavailableException($"no token is present in PKCS#11 slot {id} of {settings.Library}");
        var labels = slots.Select(s => (Slot: s, Label: s.GetTokenInfo().Label.Trim())).ToList();
        return labels.FirstOrDefault(s => s.Label == settings.Token).Slot
            ?? throw new MasterKeyUnavailableException($"no token labelled '{settings.Token}' is present in {settings.Library} (present: {(labels.Count == 0 ? "none" : string.Join(", ", labels.Select(l => $"'{l.Label}'")))})");
    }

    /// <summary>The token's AES key with that label; refused when there are several, or when it could leave the token.</summary>
    private static IObjectHandle? FindKey(ISession session, string label)
    {
        var found = session.FindAllObjects(
        [
            Factories.ObjectAttributeFactory.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            Factories.ObjectAttributeFactory.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
            Factories.ObjectAttributeFactory.Create(CKA.CKA_LABEL, label),
        ]);
        if (found.Count == 0) return null;
        if (found.Count > 1) throw new MasterKeyUnavailableException($"the token holds {found.Count} AES keys labelled '{label}'; exactly one is needed");
        var attrs = session.GetAttributeValue(found[0], [CKA.CKA_EXTRACTABLE, CKA.CKA_SENSITIVE]);
        if (attrs[0].GetValueAsBool() || !attrs[1].GetValueAsBool())
            throw new MasterKeyUnavailableException($"the token's key '{label}' is extractable or not sensitive: refused as a master key");
        return found[0];
    }

    private static IObjectHandle CreateKey(ISession session, string label) => session.GenerateKey(
        Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN),
        [
            Factories.ObjectAttributeFactory.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            Factories.ObjectAttributeFactory.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
            Factories.ObjectAttributeFactory.Create(CKA.CKA_VALUE_LEN, 32UL),
            Factories.ObjectAttributeFactory.Create(CKA.CKA_LABEL, label),
            Factories.ObjectAttributeFactory.Create(CKA.CKA_TOKEN, true),
            Factories.ObjectAttributeFactory.Create(CKA.CKA_PRIVATE, true),
            Factories.ObjectAttributeFactory.Create(CKA.CKA_SENSITIVE, true),
            Factories.ObjectAttributeFactory.Create(CKA.CKA_EXTRACTABLE, false),
            Factories.ObjectAttributeFactory.Create(CKA.CKA_MODIFIABLE, false),
            Factories.ObjectAttributeFactory.Create(CKA.CKA_ENCRYPT, true),
            Factories.ObjectAttributeFactory.Create(CKA.CKA_DECRYPT, true),
            Factories.ObjectAttributeFactory.Create(CKA.CKA_WRAP, false),
            Factories.ObjectAttributeFactory.Create(CKA.CKA_UNWRAP, false),
        ]);
}
