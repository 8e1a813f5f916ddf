using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Rotor.Console.Tests;

/// <summary>
/// The operations console end to end, in a real headless chromium: operators sign in with their key files, request
/// reshares, approve them with signatures made in the browser (WebCrypto Ed25519), and the pages show what happened.
/// </summary>
[Collection("console")]
public sealed class ConsoleTests(ConsoleCluster c) : IClassFixture<ConsoleCluster>
{
    private static readonly LocatorAssertionsToContainTextOptions Long = new() { Timeout = 180_000 };

    private static int RequestCount() => ConsoleCluster.Rotor("requests", "list", "--dir", "X").Count;

    private JsonArray Requests() => (JsonArray)ConsoleCluster.Rotor("requests", "list", "--dir", c.Dir)["requests"]!;

    private JsonObject Wallet() => ((JsonArray)ConsoleCluster.Rotor("wallet", "list", "--dir", c.Dir)["wallets"]!)
        .OfType<JsonObject>().Single(w => w["walletId"]!.GetValue<string>() == c.WalletId);

    [Fact]
    public async Task A_refresh_requested_and_approved_in_two_browsers_commits_and_every_page_shows_it()
    {
        var epoch = Wallet()["epoch"]!.GetValue<ulong>();
        var alice = await c.NewPageAsync();
        await c.SignInAsync(alice, c.AliceKey);
        await Expect(alice.Locator("#operator")).ToHaveTextAsync("alice");
        await Expect(alice.Locator("#quorums")).ToContainTextAsync("q1");
        await Expect(alice.Locator("#nodes")).ToContainTextAsync("online");
        await ConsoleCluster.ScreenshotAsync(alice, "overview");

        // The session cookie: Secure, HttpOnly, SameSite=Strict; the pages carry a strict CSP.
        var cookie = (await alice.Context.CookiesAsync()).Single(k => k.Name == "__Host-rotor-session");
        Assert.True(cookie.Secure && cookie.HttpOnly && cookie.SameSite == SameSiteAttribute.Strict);
        var response = await alice.GotoAsync("/reshare?quorum=q1");
        var csp = response!.Headers["content-security-policy"];
        Assert.Contains("script-src 'self'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        await Expect(alice.Locator("#plan")).ToContainTextAsync("cs1");
        await Expect(alice.Locator("#plan")).ToContainTextAsync("backups made obsolete");

        // A bad form value: a message beside the field, nothing requested.
        var before = Requests().Count;
        await alice.FillAsync("#threshold", "two");
        await alice.ClickAsync("#request");
        await Expect(alice.Locator("#error-threshold")).ToContainTextAsync("whole number");
        await Expect(alice.Locator("#error-reason")).ToContainTextAsync("choose one of");
        await Expect(alice.Locator("#form-error")).ToContainTextAsync("nothing was requested");
        Assert.Equal(before, Requests().Count);

        // A form posted without the antiforgery token changes nothing.
        var forged = await alice.APIRequest.PostAsync("/reshare", new APIRequestContextOptions
        {
            Form = alice.Context.APIRequest.CreateFormData().Set("quorum", "q1").Set("reason", "compliance").Set("members", "cs1,cs2,cs3").Set("threshold", "2").Set("when", "now"),
        });
        Assert.Equal(400, forged.Status);
        Assert.Equal(before, Requests().Count);

        await ConsoleCluster.ScreenshotAsync(alice, "reshare");
        await alice.SelectOptionAsync("#reason", "compliance");
        await alice.FillAsync("#note", "quarterly rotation");
        await alice.FillAsync("#threshold", "2");
        await alice.ClickAsync("#request");
        await alice.WaitForURLAsync(new Regex("/requests/[0-9a-f]{32}$"));
        var requestUrl = alice.Url;
        await Expect(alice.Locator("#description")).ToContainTextAsync("quarterly rotation");
        await Expect(alice.Locator("#description")).ToContainTextAsync("compliance");
        await Expect(alice.Locator("#approvals")).ToContainTextAsync("0 of 2");
        await alice.SetInputFilesAsync("#keyfile", c.AliceKey);
        await alice.ClickAsync("#approve");
        await Expect(alice.Locator("#notice")).ToContainTextAsync("1 of 2");
        await Expect(alice.Locator("#request-status")).ToContainTextAsync("awaiting-approval");

        // The second operator, in another browser context.
        var bob = await c.NewPageAsync();
        await c.SignInAsync(bob, c.BobKey);
        await bob.GotoAsync(requestUrl);
        await Expect(bob.Locator("#description")).ToContainTextAsync("refresh");
        await ConsoleCluster.ScreenshotAsync(bob, "request");
        await bob.SetInputFilesAsync("#keyfile", c.BobKey);
        await bob.ClickAsync("#approve");
        await Expect(bob.Locator("#operation-status")).ToContainTextAsync("committed", Long);
        await Expect(bob.Locator("#approvals")).ToContainTextAsync("alice, bob");

        // The wallet: a new epoch, the same address, its old backup obsolete.
        await alice.GotoAsync($"/wallets/{c.WalletId}");
        await Expect(alice.Locator("#epoch")).ToHaveTextAsync((epoch + 1).ToString());
        await Expect(alice.Locator("#address")).ToHaveTextAsync(c.Address);
        var row = alice.Locator("#timeline tr.epoch-row").First;
        await Expect(row).ToContainTextAsync($"{epoch} → {epoch + 1}");
        await Expect(row).ToContainTextAsync("compliance");
        await Expect(row.Locator("td.requested-by")).ToHaveTextAsync("alice");
        await Expect(row.Locator("td.approved-by")).ToHaveTextAsync("alice, bob");
        await Expect(row).ToContainTextAsync("committed");
        await Expect(alice.Locator("tr.backup[data-status=obsolete]")).Not.ToHaveCountAsync(0);
        await ConsoleCluster.ScreenshotAsync(alice, "wallet");
        Assert.Equal(c.Address, Wallet()["address"]!.GetValue<string>());
        Assert.Equal(epoch + 1, Wallet()["epoch"]!.GetValue<ulong>());

        // The audit log: the reason, both approvers, the sign-ins; verified here against the pinned audit key.
        await alice.GotoAsync("/audit");
        await Expect(alice.Locator("#audit-verdict")).ToContainTextAsync("verified");
        await Expect(alice.Locator("#log")).ToContainTextAsync("compliance");
        await Expect(alice.Locator("#log")).ToContainTextAsync("console-sign-in");
        var log = await alice.Locator("#log").InnerTextAsync();
        Assert.Contains("alice", log);
        Assert.Contains("bob", log);
        await alice.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleCluster.DocsDir(), "audit.png") });

        // Compliance: the page, its CSV, and the CLI's report say the same.
        await alice.GotoAsync("/compliance");
        await Expect(alice.Locator("#compliance")).ToContainTextAsync("compliance");
        await Expect(alice.Locator("#compliance")).ToContainTextAsync("alice, bob");
        await ConsoleCluster.ScreenshotAsync(alice, "compliance");
        var csv = await (await alice.APIRequest.GetAsync("/compliance.csv")).TextAsync();
        Assert.Contains(c.WalletId, csv);
        Assert.Contains("compliance", csv);
        Assert.Contains("alice bob", csv);
        Assert.Contains(",compliance,alice,alice bob,", csv);
        var report = ConsoleCluster.Run("report", "rotations", "--dir", c.Dir, "--csv");
        Assert.Equal(0, report.Code);
        Assert.Equal(csv.Split("\r\n")[0], report.Stdout.Split("\r\n")[0]);
        Assert.Contains($"{c.WalletId},q1,ed25519,{epoch + 1},", report.Stdout);

        foreach (var (path, name) in new[] { ("/requests", "requests"), ("/backups", "backups"), ("/policies", "policies") })
        {
            await alice.GotoAsync(path);
            await ConsoleCluster.ScreenshotAsync(alice, name);
        }
        await Expect(alice.Locator("#governance")).ToContainTextAsync("cs1");
    }

    [Fact]
    public async Task A_restructure_with_too_few_approvals_never_runs_and_a_tampered_approval_is_refused()
    {
        var epoch = Wallet()["epoch"]!.GetValue<ulong>();
        var alice = await c.NewPageAsync();
        await c.SignInAsync(alice, c.AliceKey);
        await alice.GotoAsync("/reshare?quorum=q1");
        await alice.SelectOptionAsync("#reason", "personnel-change");
        await alice.FillAsync("#threshold", "3");
        await alice.ClickAsync("#request");
        await alice.WaitForURLAsync(new Regex("/requests/[0-9a-f]{32}$"));
        var requestUrl = alice.Url;
        var id = requestUrl[^32..];
        await Expect(alice.Locator("#description")).ToContainTextAsync("restructure");
        await alice.SetInputFilesAsync("#keyfile", c.AliceKey);
        await alice.ClickAsync("#approve");
        await Expect(alice.Locator("#notice")).ToContainTextAsync("1 of 2");

        // Bob's approval is altered on its way (one bit of the signature): refused, nothing recorded.
        var bob = await c.NewPageAsync();
        await c.SignInAsync(bob, c.BobKey);
        await bob.RouteAsync("**/approve", async route =>
        {
            var body = route.Request.PostData!;
            var m = Regex.Match(body, "signature=([0-9a-f]{128})");
            Assert.True(m.Success, body);
            var sig = m.Groups[1].Value;
            var flipped = (sig[0] == '0' ? '1' : '0') + sig[1..];
            await route.ContinueAsync(new RouteContinueOptions { PostData = System.Text.Encoding.UTF8.GetBytes(body.Replace(sig, flipped)) });
        });
        await bob.GotoAsync(requestUrl);
        await bob.SetInputFilesAsync("#keyfile", c.BobKey);
        await bob.ClickAsync("#approve");
        await Expect(bob.Locator("#approve-error")).ToContainTextAsync("does not verify");
        await Expect(bob.Locator("#approvals")).ToContainTextAsync("1 of 2");

        var record = Requests().OfType<JsonObject>().Single(r => r["id"]!.GetValue<string>() == id);
        Assert.Equal("awaiting-approval", record["status"]!.GetValue<string>());
        Assert.Equal(1, record["approvals"]!.GetValue<int>());
        Assert.Equal(epoch, Wallet()["epoch"]!.GetValue<ulong>());

        // A passphrase-sealed key is refused in the browser with a clear message.
        var sealedKey = Path.Combine(c.Dir, "carol-sealed.key");
        if (!File.Exists(sealedKey)) Rotor.Cli.Governance.OperatorKeyFile.Create(sealedKey, "correct horse");
        var carol = await c.NewPageAsync();
        await carol.GotoAsync("/signin");
        await carol.SetInputFilesAsync("#keyfile", sealedKey);
        await carol.ClickAsync("#signin");
        await Expect(carol.Locator(".field-error[data-for=keyfile]")).ToContainTextAsync("sealed with a passphrase");
        await ConsoleCluster.ScreenshotAsync(carol, "signin");
    }
}
