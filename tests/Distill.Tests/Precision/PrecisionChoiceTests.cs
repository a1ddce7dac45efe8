using Distill.Recipes;
using Distill.Tests.Recipes;
using Distill.Training;
using Xunit;

namespace Distill.Tests.Precision;

/// <summary>
/// <c>precision: auto</c> and the bf16 warning, decided from /proc/cpuinfo text: the flags lines of a CPU with
/// AVX512-BF16, one with AMX-BF16, an AVX2-only one (the machine) and no file at all.
/// </summary>
public class PrecisionChoiceTests
{
    private const string Avx2Only = """
        processor	: 0
        vendor_id	: AuthenticAMD
        model name	: AMD EPYC 7B12
        flags		: fpu vme de pse tsc msr pae mce cx8 apic sse sse2 ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c avx2 bmi2
        bogomips	: 4499.99

        processor	: 1
        flags		: fpu vme de pse tsc msr pae mce cx8 apic sse sse2 ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c avx2 bmi2
        """;

    private const string Avx512Bf16 = """
        processor	: 0
        model name	: Intel(R) Xeon(R) Platinum 8380
        flags		: fpu sse2 avx avx2 avx512f avx512dq avx512_vnni avx512_bf16 avx512_vbmi2
        """;

    private const string AmxBf16 = """
        processor	: 0
        flags		: fpu sse2 avx avx2 avx512f amx_bf16 amx_tile amx_int8
        """;

    // A flag that only contains the name (avx512_bf16x) is not the flag.
    private const string LookAlike = "flags\t\t: avx2 avx512f avx512_bf16x not_amx_bf16\n";

    [Fact]
    public void TheNativeFlagsAreReadFromTheFlagsLines()
    {
        Assert.Equal([], CpuBf16Support.Parse(Avx2Only).Flags);
        Assert.True(CpuBf16Support.Parse(Avx2Only).Known);
        Assert.Equal(["avx512_bf16"], CpuBf16Support.Parse(Avx512Bf16).Flags);
        Assert.Equal(["amx_bf16"], CpuBf16Support.Parse(AmxBf16).Flags);
        Assert.False(CpuBf16Support.Parse(LookAlike).Native);
        Assert.False(CpuBf16Support.Parse(null).Known);
        Assert.False(CpuBf16Support.Parse("processor : 0\n").Known); // no flags line: cannot tell
    }

    [Theory]
    [InlineData(Avx2Only, true, Distill.Training.Precision.Fp32)]
    [InlineData(Avx512Bf16, true, Distill.Training.Precision.Bf16)]
    [InlineData(AmxBf16, true, Distill.Training.Precision.Bf16)]
    [InlineData(null, true, Distill.Training.Precision.Fp32)]         // unknown CPU: the safe choice
    [InlineData(Avx512Bf16, false, Distill.Training.Precision.Fp32)]  // a CUDA device: auto does not pick bf16
    public void AutoPicksBf16OnlyWhereItIsNative(string? cpuinfo, bool onCpu, Distill.Training.Precision expected)
    {
        var cpu = CpuBf16Support.Parse(cpuinfo);
        Assert.Equal(expected, PrecisionChoice.Resolve(Distill.Training.Precision.Auto, onCpu, cpu));
        // Explicit choices are kept whatever the CPU.
        Assert.Equal(Distill.Training.Precision.Bf16, PrecisionChoice.Resolve(Distill.Training.Precision.Bf16, onCpu, cpu));
        Assert.Equal(Distill.Training.Precision.Fp32, PrecisionChoice.Resolve(Distill.Training.Precision.Fp32, onCpu, cpu));
    }

    [Fact]
    public void Bf16WithoutNativeSupportIsWarnedAboutNamingTheFlagsAndTheSlowdown()
    {
        var w = PrecisionChoice.Warning(Distill.Training.Precision.Bf16, true, CpuBf16Support.Parse(Avx2Only), "train.precision");
        Assert.NotNull(w);
        Assert.StartsWith("train.precision: ", w);
        Assert.Contains("avx512_bf16", w);
        Assert.Contains("amx_bf16", w);
        Assert.Contains("emulated", w);
        Assert.Contains("10x slower", w);
        Assert.Contains("issue 17 measured 11.2x", w);
        Assert.Contains("auto", w);

        Assert.Null(PrecisionChoice.Warning(Distill.Training.Precision.Bf16, true, CpuBf16Support.Parse(Avx512Bf16), "train.precision"));
        Assert.Null(PrecisionChoice.Warning(Distill.Training.Precision.Bf16, true, CpuBf16Support.Parse(null), "train.precision"));
        Assert.Null(PrecisionChoice.Warning(Distill.Training.Precision.Bf16, false, CpuBf16Support.Parse(Avx2Only), "train.precision"));
        Assert.Null(PrecisionChoice.Warning(Distill.Training.Precision.Fp32, true, CpuBf16Support.Parse(Avx2Only), "train.precision"));
        Assert.Null(PrecisionChoice.Warning(Distill.Training.Precision.Auto, true, CpuBf16Support.Parse(Avx2Only), "train.precision"));
    }

    [Fact]
    public void TheRecipeWarningsNameTheKeyOfEachBf16()
    {
        var recipe = new Recipe
        {
            Train = new TrainSpec { Precision = Distill.Training.Precision.Fp32 },
            Stages = [new Distill.Recipes.BaselineStageSpec(), new Distill.Recipes.DistillStageSpec { Train = new TrainSpec { Precision = Distill.Training.Precision.Bf16 } }],
        };
        var warnings = RecipeWarnings.For(recipe, CpuBf16Support.Parse(Avx2Only));
        Assert.Equal(["stages.1.train.precision"], warnings.Select(w => w[..w.IndexOf(':')]));
        Assert.Empty(RecipeWarnings.For(recipe, CpuBf16Support.Parse(AmxBf16)));
        var top = recipe with { Train = new TrainSpec { Precision = Distill.Training.Precision.Bf16 } };
        Assert.Equal(["train.precision"], RecipeWarnings.For(top, CpuBf16Support.Parse(Avx2Only)).Select(w => w[..w.IndexOf(':')]));
    }

    [Fact]
    public void AutoBindsFromTheRecipe()
    {
        var result = RecipeLoader.Load(RecipeFixtures.Path("valid/mlp_defaults.yaml"), ["train.precision=auto"]);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(Distill.Training.Precision.Auto, result.Recipe!.Train.Precision);
    }
}
