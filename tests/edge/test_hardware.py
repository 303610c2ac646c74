"""The CPU beside every fps figure: read from /proc/cpuinfo, int8 dot product from its flags."""

from pathlib import Path

from edge.hardware import cpu_description


def test_a_cpu_with_vnni_is_told_apart_from_one_with_avx2_alone(tmp_path: Path) -> None:
    vnni, avx2 = tmp_path / "vnni", tmp_path / "avx2"
    vnni.write_text("processor\t: 0\nmodel name\t: Intel Xeon\nflags\t\t: fpu avx2 avx512f avx512_vnni\n\n"
                    "processor\t: 1\nmodel name\t: Intel Xeon\nflags\t\t: fpu avx2 avx512f avx512_vnni\n")
    avx2.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse4_2 avx2 fma\n")
    assert cpu_description(vnni)["int8_dot_product"] is True
    assert cpu_description(vnni)["model"] == "Intel Xeon"
    assert cpu_description(avx2) == {"model": "AMD EPYC", "cores": cpu_description(avx2)["cores"], "int8_dot_product": False}


def test_no_cpuinfo_says_unknown_rather_than_no(tmp_path: Path) -> None:
    assert cpu_description(tmp_path / "missing")["int8_dot_product"] is None
