import pytest

from framegraph import FrameGraphError, lookup
from framegraph.access import ACCESS_TABLE, merge_layouts
from framegraph.vk import Access, Layout, Stage


def test_table_rows_have_consistent_read_write():
    for name, info in ACCESS_TABLE.items():
        assert ("write" in name or name == "general") == info.writes, name


def test_thsvs_spellings_and_case():
    assert lookup("FRAGMENT_SHADER_READ_SAMPLED_IMAGE_OR_UNIFORM_TEXEL_BUFFER").name == "fragment_shader_read_sampled"
    assert lookup("THSVS_ACCESS_COMPUTE_SHADER_WRITE").name == "compute_shader_write_storage"
    assert lookup("Color_Attachment_Write").name == "color_attachment_write"
    assert lookup("DEPTH_STENCIL_ATTACHMENT_WRITE").name == "depth_attachment_write"


def test_unknown_access_names_pass_and_resource():
    with pytest.raises(FrameGraphError, match="pass 'p', resource 'r'.*unknown access"):
        lookup("shader_magic", pass_name="p", resource="r")


def test_masks_are_vulkan_numbers():
    info = lookup("depth_attachment_write")
    assert info.stages == Stage.EARLY_FRAGMENT_TESTS | Stage.LATE_FRAGMENT_TESTS == 0x300
    assert info.access.names() == ["VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_READ_BIT",
                                   "VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT"]
    assert Access.SHADER_SAMPLED_READ == 0x100000000


def test_layout_merging():
    assert merge_layouts(Layout.DEPTH_READ_ONLY_OPTIMAL, Layout.SHADER_READ_ONLY_OPTIMAL, False, False) \
        == Layout.DEPTH_READ_ONLY_OPTIMAL
    assert merge_layouts(Layout.SHADER_READ_ONLY_OPTIMAL, Layout.COLOR_ATTACHMENT_OPTIMAL, False, True) is None
    assert merge_layouts(Layout.GENERAL, Layout.GENERAL, True, False) == Layout.GENERAL
