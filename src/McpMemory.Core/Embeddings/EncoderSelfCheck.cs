using System.Diagnostics;
using System.Numerics.Tensors;

namespace McpMemory.Core.Embeddings;

/// <summary>Result of <see cref="UseLiteEncoder.SelfCheck"/>: the encoder against a vector computed by the reference.</summary>
/// <param name="Passed">Token ids equal the reference's and the cosine is at least <see cref="MinimumCosine"/>.</param>
/// <param name="Cosine">Cosine similarity between our vector and the built-in reference vector.</param>
/// <param name="TokenIdsMatch">Whether the tokenizer produced the reference's token ids for the check sentence.</param>
/// <param name="Elapsed">Time taken by the check (tokenize + embed one sentence).</param>
/// <param name="Text">The check sentence.</param>
public sealed record EncoderSelfCheck(bool Passed, double Cosine, bool TokenIdsMatch, TimeSpan Elapsed, string Text)
{
    /// <summary>Agreement required with the reference (the golden tests hold every text to the same bound).</summary>
    public const double MinimumCosine = 0.9999;

    /// <summary>The check sentence: 42 tokens of ordinary English with punctuation and a hyphen.</summary>
    public const string CheckText =
        "The memory server stores short notes written by coding agents, ranks them with full-text search " +
        "and sentence embeddings, and returns the most relevant ones when a new task starts. ";

    // Reference output for CheckText: @energetic-ai/embeddings 0.2.0 (tfjs 4.5 WASM) — the same line as in
    // tests/McpMemory.Tests/Embeddings/golden.jsonl, base64 of 512 little-endian float32.
    private static readonly int[] ReferenceIds =
        [34, 3082, 3413, 3450, 636, 4933, 1984, 55, 361, 1810, 3514, 7, 8, 2517, 7, 98, 28, 650, 24, 5923, 1238, 12,
         2682, 1500, 428, 4761, 7, 8, 12, 852, 7, 9, 178, 4789, 2102, 96, 11, 159, 3150, 3543, 6, 30];

    private const string ReferenceVectorBase64 =
        "+Wz3vMzfnr0izR299uWAPU+VUrzq0D68/HJQvSR4VL3R6O+8a2/xvKlULL1kWi+9LqYTvU7vqbyI6Sy9OhkxPaHQnLx7rFY8gs2dvd7EPj2OVQW9" +
        "8bCOvUmOmDvhpZO9/KKDPJRXsTxYb1k89mqNPVQtfb0r6sQ8RY9APe1OrrpIBoY9hcxtvIZUAD3tEFE9CM8xvfwIKT354569hT0fPRHQbz0Pmqg8" +
        "YT9YPUGuiL3qMRo9Ae5OPa4qZT0wXhU8SV+2PE46ibxshTi9aHQhPUhAED0Jw7a6k7D3O5ailzwvuzO9hPKDvBC/ID0c/D68LuRWPEpOhb2ywEa9" +
        "QZuuPN3RZ7zaM6G7WY6YPabEfDtyiYA9KwaIvVZxHb30KYq9n3iTvY/4h71cRru83DoBvSL5JL0VAbE8KjBaPMY1YL3JvgQ98pRRvaoE1Tuxihw6" +
        "jo30vOjZRz0EuYe9wUWWPS43nT0wzOY875F1PXwtqzx/Gv88trM+vSjyir3Jrzk9XglhvdCD47z5/Pq8isRdvUzT6jz6b/68ELGLvOOKXr02C4I8" +
        "LlyautW6jL1z2x09l8YIvfDejz3ssmS87Tq3vNtauzxIrkg9mBgxvXG0g71e85q7Pg6BPfOhjr3EFW89B2xjupNah73Nox29KiXlPNvln7yNQKQ8" +
        "kZxcO0FRTjzUULU8pno5veiX9jzh9mi9pNWKvEcdJry82hu9co0Cvb+AXLsdsJU86zJVvWi8Kz03gZM9dkUxPWKTVz2IvD09E6e3vCDMBT06Ets8" +
        "EvYCO24rlTqMbhi8vmaXvb1YjL2wv808gZW6vMufxLwo2aK8bEv4O0HQzzox/NE8tozdvM+QQD07bhm9lQ6BPcL1Kb2yieo87aAYvS4FFD0CPiG9" +
        "Ow8KvcM1/TyESn89Lk4gPa6YhDzazOs80HswvVqPYj04np69A2KTPPwzoLu5XpI9BnDHPFpzVDxBFF89swNtvdRrGT34AZO8LGJtPb23QD1SY0w9" +
        "XJ33PG1JKr1x1XU9HpZwvXeRUjwgBGE92Il+vVdWND2PXTM8UaVOPP0uST0ojqo70DT8vM2eG70YUu88O6vivDpASL1zyRM9bkdcPf9/sjw6VTU8" +
        "k3/su/MgUj0qljY9chLIvMGzlD1k2iu9vj9BvOnLE70B0pw9h9FIvROoNDurxI696DqtPKC0jL0MTpE86zBUvcwKBL3C33Y9GfZ7vRt1WD3KMT68" +
        "cDaXPfDjI7oWZ9e8xOmFPFZ39Ty2wtg8MiR9PJoF7rxJpbG5kHWFvB600Lzdk4c9ljyWvcYDUL3Gsik9gQgoPVsJ7rzhIeS8Uj3bvH6dMT1ciI69" +
        "rZEyvT4QYr2xt029JBkfvU0/17zOqXq9AXcCPSC9jj3T9T29lHBEvfq15Lzi9Yc8Rid8vYfGZT0kL8E7HJcrvfMki70V0nq9y0NuPMMJkb3IOwq8" +
        "Vzc3PcTjf73O7Yg90O0ZvRLzaLr2ekI9Gx0JPaV4GT1UZPi8+r4xvTQacT2DK4m9k8devJVyOD1Nvp29PuImvfZEID0ezlC86aJivX7ERj0OUFI9" +
        "K9QXPOT5Z72HaD891DYVvfNMSL2c7A49JWIFvQzJ+TvGR5a8EZ94vT9Yj73BmIG9hNOAPbZVaT15cRY9uJxPPdYGgr1Unpg9GE5cPP6Cgj0ZB+e8" +
        "BLckvWXhYj1lV2295UZyvPuijTylMge90rmqvLk7jr32TJW7R2C+PDgFCz3v4XC8/CsAPQqs+zw6QG09nIpFvZ/6+7wkrXq8e3MxvTxRbj1tJui8" +
        "F/GRPUhGjLyc2Dy9FdD3PD+rUjzR+Py8ECN/vJ0EXr0p5Z49yObHPIRvVb13NIw8i4mXPMOKaT2igp69ZsEEPQYKTbuNmmi9NFnKPJMBBb2Zlx29" +
        "zFkCvZJBnDuhOA69FfVSPBjXxDxKiC29C2T3vCV+J71PavU7WTlMvQ+2lb1up/y7V2FUvVoFiL0Ue0o9MgtBPcNwPD0vKhA93phTvSCBl729l0s8" +
        "BSksu0z9fbwuxDm8koIcPTTNkb2VfJW8YMJPvf7y7jvgw1s9f9TVvOOWrjx+8ve7+4guPMR/lT20H5e8fOHnPHbSeD2SbEg9RF1FPVZE+jyWfpC8" +
        "jZ8wvTtybb1ai2E9bI0vPSjaiz2dlrs77ty4PI0YJbz6gJC9+kGJPYx5MDyuUpQ9qG2KPTFCBj2B4o296tANPfqXRbqD3E89g1Zivej1DjzbaYO9" +
        "9aoPPbt1Fr2tr3a9vbJ2PbE01rsTuUU7BeV2va/4cb2jaAq9c/VBPY5WbL10/x29qQyYvbOZjTwYJm49iFMZPcaImL036fI81xZivZ6Dhj2mW2c8" +
        "WWdBvdyskL307Cw9xQyePYfAc70mMYk9/hqEve/yzTwwQK08Wy8kvVwAqbwvoYg9O95ivYBGhL2ZaEm95ayHPSwChj15I5G9XJ1TPOQ7Lb1yBNm8" +
        "yDdYvYuZ1TyC53S9cChfPerIbzxoYZU9cRiguwP6er04RUc91tfNPDg/HT2C8sS8Bsx5PYmbFT2eI4G8L8pqPb/aUrz9B4C9CIWEvfoIKb0ELh49" +
        "98QevX1IJD30IIq8spqavP0Uab2rssG8jp2bPTncgLw/xZu9FDGXPVXLg72k+Gm7MKaMvB+hPLwFdMk8EiCzPPZ6Jb2WNoA9ihJ0vTKpeTwQL0+9" +
        "a4cfvciZZLyMGVy9Bw23PH/JCL13N0e968vpuyy9Nz0=";

    internal static EncoderSelfCheck Run(UseLiteEncoder encoder)
    {
        var stopwatch = Stopwatch.StartNew();
        bool idsMatch = encoder.TokenIds(CheckText).AsSpan().SequenceEqual(ReferenceIds);
        float[] actual = encoder.Embed(CheckText);
        stopwatch.Stop();

        byte[] raw = Convert.FromBase64String(ReferenceVectorBase64);
        float[] expected = new float[raw.Length / sizeof(float)];
        Buffer.BlockCopy(raw, 0, expected, 0, raw.Length);
        double cosine = expected.Length == actual.Length ? TensorPrimitives.CosineSimilarity(actual, expected) : double.NaN;
        return new EncoderSelfCheck(idsMatch && cosine >= MinimumCosine, cosine, idsMatch, stopwatch.Elapsed, CheckText);
    }
}
