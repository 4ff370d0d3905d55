using System.Diagnostics;
using System.Numerics.Tensors;
using McpMemory.Core.Embeddings.Onnx;

namespace McpMemory.Core.Embeddings;

/// <summary>Result of a self-check (<see cref="UseLiteEncoder.SelfCheck"/>, <see cref="Run(OnnxEncoder)"/>): the encoder against a vector computed by the reference.</summary>
/// <param name="Passed">Token ids equal the reference's and the cosine is at least <see cref="MinimumCosine"/> (<see cref="MinimumInt8Cosine"/> for int8 weights).</param>
/// <param name="Cosine">Cosine similarity between our vector and the built-in reference vector.</param>
/// <param name="TokenIdsMatch">Whether the tokenizer produced the reference's token ids for the check sentence.</param>
/// <param name="Elapsed">Time taken by the check (tokenize + embed one sentence).</param>
/// <param name="Text">The check sentence.</param>
/// <param name="Note">Why the check could not compare with a reference (a model folder other than the built-in ones), else null.</param>
public sealed record EncoderSelfCheck(bool Passed, double Cosine, bool TokenIdsMatch, TimeSpan Elapsed, string Text, string? Note = null)
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

        float[] expected = Decode(ReferenceVectorBase64);
        double cosine = expected.Length == actual.Length ? TensorPrimitives.CosineSimilarity(actual, expected) : double.NaN;
        return new EncoderSelfCheck(idsMatch && cosine >= MinimumCosine, cosine, idsMatch, stopwatch.Elapsed, CheckText);
    }

    /// <summary>The built-in transformer's check sentence (a LoCoMo turn from /work/shared/tools/bert-reference, text 1).</summary>
    public const string ArcticCheckText = "John: Yup, it's a yoga studio I go to often. The vibe is really chill and the instructors are awesome.";

    /// <summary>The built-in transformer's model_id (its config's), whose reference vector is below.</summary>
    public const string ArcticModelId = "snowflake-arctic-embed-xs@onnx";

    /// <summary>
    /// How close the built-in model with int8 weights comes to the fp32 reference vector: measured 0.9948 at worst over
    /// the 202 bert-reference texts, queries and documents (docs/encoder.md, "int8 weights").
    /// </summary>
    public const double MinimumInt8Cosine = 0.99;

    // Hugging Face tokenizers' ids for ArcticCheckText (document mode) and the vector model.onnx gives for them (CLS,
    // L2-normalised; base64 of 384 little-endian float32): ids.jsonl / vectors.jsonl of the bert-reference set.
    private static readonly long[] ArcticReferenceIds =
        [101, 2198, 1024, 9805, 2361, 1010, 2009, 1005, 1055, 1037, 13272, 2996, 1045, 2175, 2000, 2411, 1012, 1996, 21209,
         2003, 2428, 10720, 1998, 1996, 19922, 2024, 12476, 1012, 102];

    private const string ArcticReferenceVectorBase64 =
        "MzrSvDosXTwEBlA81jiEPHmCC736DwY5r3YevRdo9rxfPNm7GwmsPDrq9byw07E9SjdrvFX9l7xqnYw988BCvEywDz3zrBw9yoIbvn0JIz15x7+8jvqA" +
        "PNmXID3HyR89VYE7vQ1YBjtJHMQ8XIXwPFGkGb0E42C+CnGAuzZjzjxdjAy8msRWvTMezru1ph+8HsmYvEqXDz2F4hk68Fw4vLHTSrwZLRU9ppV/vIAB" +
        "8zwJKsE7YkYIPE8eMzy5WHq8ZfKHPT84zzwgP8u8s3P+vKiFZLzCZDU8pVQyvby6GD3xhDg8CUIuvCNx9DyoaZY7v2KaOkSiKT0/6JS+tBQlPUSQJrzK" +
        "a8c8SkTgPBIAqLxO6cg8p5AnPNlrnTwwiqO8/BJ7vVepoLwSrbg8R/DkvFIwGT25/NI858tZPVGUTr3pw4y6NaVVPUUqTzw9qAG9EHMWvaAZVj3BDCy9" +
        "hn1hvHr+KrxIwrk8NrWGu6v5OL0v5kI7RTbLvLGYnL2N2CO7LVrHvClr9zvfkWE922GcPkq58jzvmNk8vvaZPbJFEr2TmS+90PoOvZr/2TuG5DK9/Qmu" +
        "u6MiELz0Xfi7qGR7u7y9nzzyVBi8aTtUPZjFXT0DG1a9/AdjPfU5ND0gx7E7UOp/vScLE7vevYK9bMTzPMWqcr3TvBG9CzktvcDSJz0h8dg86vUNPTsW" +
        "dT0BDa68NfEvvdEdB7piUOq8GPjzPP5gdj2nLJi9Bs+BvM7qj72vu6+3DIQSvqgenT1QFeq84NiHPTXVWD3r9vs8Lq6RO6+VpLziz129cOC1vFf2mz3J" +
        "E4m8cTFYPTDbuT28jS09doFDvXGhmbyHe2O8D3/rPIF3DL1WMWa8qLrwPK/rxj0/4mo9IAEFvSMRajxdv6s7uXYyPf2nA7zNvug8o+OIPB5B9Lwwogs9" +
        "Ymt5vK9jxTsyLhO9P44gPeicHT0b8Ea9mF0ePUKslT2EvVa804s4OJ591DzCW8y8ZhgZPU3XoTzBg0G8hH6xPfNv2b3xk2s96Vi9vdJe4TwAX8s6wbON" +
        "O38I8DxOy0U9ssKBvBHjXbyiNZ46ClX/vMlz+7zRU5u7DWtpvKcUUb0uHgm880Dbu5EOIr37Yao8FL56vMxNpDw6z7g87WEjPTbTKT0Kdxg8gr3pPEiV" +
        "nz3MlQ2932FIPf4UkD2PzoA8FI2CvMIYlb0Ti/E8bexxvW1onL2TTAi9REAKvX6AGTwGoBA9uErOvJyZbb1aa209/upqPYEnFTqLX4k8DFoYPR60ujyD" +
        "xOC8f2l8O5AjaTtN6oq95eyiO01RhrzmGI69Nfl6vAf8M70RMAK9TkIGPvSdej2NMtY8KLDDPcAZfT0R2Ki8khxiOx9UE773rtW76eiJvbTAkD3/Xj47" +
        "B3V7vMVcKTxYXTg91mHbu1wokjwjRWK9g9jWOq6RLr3E06I6Ls84vC15Bz1gOgq9HTUQPdqYVrspO4y8FrtBvGStHr2cKCi9nTuOvHJJaD3AP6w8pgqj" +
        "O4dJeDzILDG9qeCcvLAQ3LwbQoS8o7uEvBmeoTzI50C7tTk1veqPPrzrgVK8DEMmPpVCMT1368I9bnP3PLKco7uZvbs8YbVAvRdKIDwPTwY9SqlnvN6O" +
        "0r3rpuO7AtEHPXwoB71/aUQ968kUOxWoQzwewqu8HGkEPUp6jTzFn6c9nzBAvc8Iaz2lCGQ9pu0pvZxHXr6W7b68YR+3PD64Lz2/FE29LQoovSwGvTzL" +
        "+e08AqxNvVIPYL2K8gM+AkSMOyEiBztVI9i8p0GSPE8/Qj1qZMK7OCiYPfzmHT2LoX69W50gvdmnKz1MWvI9fK/BPAPHoz1ZQvK67EICPBwBM73ZmCa+" +
        "/QsvPeOE8rxPfvW8VVSCPc3/57y/DSi9fxmTO6iAAD1L6sq8HI7HOtYwQLxwgiE+GHHSvMAX8zt1lyY8QpJgPXRmCz0SEE+7wOFHvAatKr34QPu84cNn" +
        "PTL4v7rHQlW88y81PA6ZDz12VIE8z4a2PEh6Br38RCY9vjr4vKSL4DvNKZ29nXUpvA1Iv71FP2S6";

    /// <summary>
    /// The transformer encoder end to end (tokenizer + model) on a known sentence. Only the built-in model has a reference;
    /// for another model folder the check embeds the sentence and checks the vector is finite, of the configured
    /// dimension and (if the config normalises) unit length.
    /// </summary>
    public static EncoderSelfCheck Run(OnnxEncoder encoder)
    {
        var stopwatch = Stopwatch.StartNew();
        long[] ids = encoder.DocumentTokenIds(ArcticCheckText);
        float[] actual = encoder.Embed(ArcticCheckText);
        stopwatch.Stop();
        if (encoder.Config.ModelId != ArcticModelId)
        {
            float norm = TensorPrimitives.Norm(actual);
            bool sane = actual.Length == encoder.Dimension && float.IsFinite(norm) && norm > 0
                        && (!encoder.Config.Normalize || Math.Abs(norm - 1) < 1e-3);
            return new EncoderSelfCheck(sane, double.NaN, true, stopwatch.Elapsed, ArcticCheckText,
                $"no reference vector for {encoder.ModelId}: checked dimension, finiteness and norm only");
        }
        bool idsMatch = ids.AsSpan().SequenceEqual(ArcticReferenceIds);
        double cosine = TensorPrimitives.CosineSimilarity(actual, Decode(ArcticReferenceVectorBase64));
        double minimum = encoder.Weights == OnnxWeights.Int8 ? MinimumInt8Cosine : MinimumCosine;
        return new EncoderSelfCheck(idsMatch && cosine >= minimum, cosine, idsMatch, stopwatch.Elapsed, ArcticCheckText);
    }

    private static float[] Decode(string base64)
    {
        byte[] raw = Convert.FromBase64String(base64);
        float[] values = new float[raw.Length / sizeof(float)];
        Buffer.BlockCopy(raw, 0, values, 0, raw.Length);
        return values;
    }
}
