//! The finite-element wall as VTK XML UnstructuredGrid (`wall_fe.vtu`): quadratic tetrahedra
//! (VTK_QUADRATIC_TETRA = 24) with displacement (m), Cauchy stress and strain tensors, von Mises,
//! maximum principal, hoop and radial stress (Pa) at the nodes, and each element's scaled Jacobian.

use super::{NodalFields, WallMesh, scaled_jacobian};
use crate::atomic::write_atomic;
use crate::error::{Error, Result};
use crate::io::vtk::{ZLIB_LEVEL, xml_to_io};
use nalgebra::Matrix3;
use std::io::Write;
use std::path::Path;
use vtkio::model::{
    Attribute, Attributes, ByteOrder, CellType, Cells, DataArray, DataSet, ElementType, Piece,
    UnstructuredGridPiece, Version, VertexNumbers,
};
use vtkio::xml::Compressor;
use vtkio::{IOBuffer, Vtk};

fn array(name: &str, elem: ElementType, data: Vec<f64>) -> Attribute {
    Attribute::DataArray(DataArray { name: name.to_string(), elem, data: IOBuffer::F64(data) })
}

fn scalars(name: &str, v: &[f64]) -> Attribute {
    array(name, ElementType::Scalars { num_comp: 1, lookup_table: None }, v.to_vec())
}

fn tensors(name: &str, v: &[Matrix3<f64>]) -> Attribute {
    // Row-major 3x3 per node.
    array(
        name,
        ElementType::Tensors,
        v.iter().flat_map(|m| m.transpose().iter().copied().collect::<Vec<_>>()).collect(),
    )
}

/// Writes the wall mesh, and `fields` when given, to `path` atomically (points and arrays Float64).
pub fn write_wall_vtu(path: &Path, mesh: &WallMesh, fields: Option<&NodalFields>) -> Result<()> {
    let n = mesh.nodes.len();
    if let Some(f) = fields
        && (f.displacement.len() != n || f.stress.len() != n)
    {
        return Err(Error::parameter(
            "wall_fe.vtu",
            format!("fields cover {} nodes, the mesh has {n}", f.stress.len()),
        ));
    }
    let mut point = Vec::new();
    if let Some(f) = fields {
        point.push(array(
            "displacement_m",
            ElementType::Vectors,
            f.displacement.iter().flat_map(|d| [d.x, d.y, d.z]).collect(),
        ));
        point.push(tensors("stress_pa", &f.stress));
        point.push(tensors("strain", &f.strain));
        point.push(scalars("von_mises_pa", &f.von_mises));
        point.push(scalars("max_principal_pa", &f.max_principal));
        point.push(scalars("hoop_stress_pa", &f.hoop));
        point.push(scalars("radial_stress_pa", &f.radial));
    }
    let quality: Vec<f64> = (0..mesh.elements.len()).map(|e| scaled_jacobian(mesh.corners(e))).collect();
    let vtk = Vtk {
        version: Version::new_xml(1, 0),
        byte_order: ByteOrder::LittleEndian,
        title: String::new(),
        file_path: None,
        data: DataSet::UnstructuredGrid {
            meta: None,
            pieces: vec![Piece::Inline(Box::new(UnstructuredGridPiece {
                points: IOBuffer::F64(mesh.nodes.iter().flat_map(|p| [p.x, p.y, p.z]).collect()),
                cells: Cells {
                    cell_verts: VertexNumbers::XML {
                        connectivity: mesh.elements.iter().flatten().map(|&a| a as u64).collect(),
                        offsets: (1..=mesh.elements.len() as u64).map(|k| 10 * k).collect(),
                    },
                    types: vec![CellType::QuadraticTetra; mesh.elements.len()],
                },
                data: Attributes { point, cell: vec![scalars("scaled_jacobian", &quality)] },
            }))],
        },
    };
    let file =
        vtk.try_into_xml_format(Compressor::ZLib, ZLIB_LEVEL).map_err(|e| Error::io(path, xml_to_io(e)))?;
    write_atomic(path, |w: &mut dyn Write| file.write(w).map_err(xml_to_io))
}
