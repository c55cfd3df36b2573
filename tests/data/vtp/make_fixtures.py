"""Writes the .vtp fixtures of tests/vtp_encodings.rs with VTK's own writer (VTK 9.7.2, `pip install vtk`):
one closed cylinder (radius 2, height 8, 32 sides, polygon caps) with the cell array ModelFaceID
(1 wall, 2 and 3 the caps), in every encoding vtkXMLPolyDataWriter writes. Run from this folder."""
from vtkmodules.vtkCommonCore import vtkIntArray
from vtkmodules.vtkFiltersSources import vtkCylinderSource
from vtkmodules.vtkIOXML import vtkXMLPolyDataWriter

source = vtkCylinderSource()
source.SetRadius(2.0)
source.SetHeight(8.0)
source.SetResolution(32)
source.SetCapping(True)
source.Update()
poly = source.GetOutput()
ids = vtkIntArray()
ids.SetName("ModelFaceID")
for c in range(poly.GetNumberOfCells()):
    n = poly.GetCell(c).GetNumberOfPoints()
    if n == 4:
        ids.InsertNextValue(1)
    else:
        # The caps: the first at y = +4, the second at y = -4.
        y = poly.GetPoint(poly.GetCell(c).GetPointId(0))[1]
        ids.InsertNextValue(2 if y > 0 else 3)
poly.GetCellData().AddArray(ids)

cases = {
    "ascii": dict(mode="ascii"),
    "binary_none_u32": dict(mode="binary", compress=None, header="UInt32"),
    "binary_zlib_u64": dict(mode="binary", compress="zlib", header="UInt64"),
    "binary_zlib_u32_bigendian": dict(mode="binary", compress="zlib", header="UInt32", big=True),
    "appended_raw_none_u64": dict(mode="appended", raw=True, compress=None, header="UInt64"),
    "appended_raw_zlib_u64": dict(mode="appended", raw=True, compress="zlib", header="UInt64"),
    "appended_raw_zlib_u32": dict(mode="appended", raw=True, compress="zlib", header="UInt32"),
    "appended_base64_zlib_u64": dict(mode="appended", raw=False, compress="zlib", header="UInt64"),
    "appended_base64_none_u32": dict(mode="appended", raw=False, compress=None, header="UInt32"),
    "appended_raw_lz4_u64": dict(mode="appended", raw=True, compress="lz4", header="UInt64"),
    "binary_lz4_u32": dict(mode="binary", compress="lz4", header="UInt32"),
    "binary_lzma_u64": dict(mode="binary", compress="lzma", header="UInt64"),
    "appended_raw_lzma_u32": dict(mode="appended", raw=True, compress="lzma", header="UInt32"),
}
for name, c in cases.items():
    w = vtkXMLPolyDataWriter()
    w.SetInputData(poly)
    w.SetFileName(name + ".vtp")
    if c["mode"] == "ascii":
        w.SetDataModeToAscii()
    elif c["mode"] == "binary":
        w.SetDataModeToBinary()
    else:
        w.SetDataModeToAppended()
        w.SetEncodeAppendedData(not c["raw"])
    if c.get("header") == "UInt32":
        w.SetHeaderTypeToUInt32()
    elif c.get("header") == "UInt64":
        w.SetHeaderTypeToUInt64()
    if c.get("big"):
        w.SetByteOrderToBigEndian()
    compress = c.get("compress")
    if compress is None:
        w.SetCompressorTypeToNone()
    elif compress == "zlib":
        w.SetCompressorTypeToZLib()
    elif compress == "lz4":
        w.SetCompressorTypeToLZ4()
    else:
        w.SetCompressorTypeToLZMA()
    # Small blocks, so compressed arrays span several blocks.
    w.SetBlockSize(256)
    w.Write()
