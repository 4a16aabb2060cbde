//! One wgpu device, created once and reused: adapter selection with a reason a person can read
//! when there is none.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// Why the GPU engine cannot run (the CPU engine still can).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GpuError {
    /// No adapter: no GPU, no Vulkan driver (lavapipe), or a browser without WebGPU.
    NoAdapter(String),
    /// The adapter refused a device with the limits we need.
    Device(String),
    /// The device was lost or a buffer could not be read back.
    Lost(String),
    /// More items than one dispatch can address (max workgroups per dimension, squared, × 64).
    TooLarge { items: usize },
}

impl fmt::Display for GpuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GpuError::NoAdapter(why) => write!(
                f,
                "no GPU adapter ({why}); on Linux without a GPU install Mesa's lavapipe (apt-get install mesa-vulkan-drivers)"
            ),
            GpuError::Device(why) => write!(f, "the GPU adapter refused a device: {why}"),
            GpuError::Lost(why) => write!(f, "the GPU device failed mid-run: {why}"),
            GpuError::TooLarge { items } => write!(
                f,
                "{items} items are more than one GPU dispatch can address; run this epoch on the CPU"
            ),
        }
    }
}

impl std::error::Error for GpuError {}

/// A device and its queue, plus what the adapter says it is.
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub adapter: wgpu::AdapterInfo,
    /// The first error the device reported (validation, out of memory, device lost). wgpu's
    /// default is to panic; we record it and fail the run with it instead, so that the caller can
    /// say what happened and fall back to the CPU.
    failure: Arc<Mutex<Option<String>>>,
    /// Why the device was lost, when it was: said in preference to the errors that follow it.
    lost: Arc<Mutex<Option<String>>>,
    /// Most workgroups one dispatch dimension takes: the device's limit. Tests lower it to run
    /// the two-dimensional grid on small inputs.
    pub max_workgroups_x: u32,
}

impl GpuContext {
    /// Asks for the default adapter (a real GPU if there is one, else a software one).
    pub async fn new() -> Result<Self, GpuError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..wgpu::RequestAdapterOptions::default()
            })
            .await
            .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("taoscope yuma"),
                required_features: wgpu::Features::empty(),
                required_limits: adapter.limits(),
                experimental_features: wgpu::ExperimentalFeatures::default(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| GpuError::Device(e.to_string()))?;
        let failure: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let record = failure.clone();
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            if let Ok(mut slot) = record.lock() {
                slot.get_or_insert_with(|| error.to_string());
            }
        }));
        let lost: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let record = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut slot) = record.lock() {
                let why = match reason {
                    wgpu::DeviceLostReason::Destroyed => "the device was destroyed".to_string(),
                    _ => format!("the device was lost ({message})"),
                };
                slot.get_or_insert(why);
            }
        });
        let max_workgroups_x = device.limits().max_compute_workgroups_per_dimension;
        Ok(Self {
            device,
            queue,
            adapter: adapter.get_info(),
            failure,
            lost,
            max_workgroups_x,
        })
    }

    /// The device's recorded failure, if any: a run that saw one must not return values.
    pub fn check(&self) -> Result<(), GpuError> {
        // Natively, callbacks (device lost among them) run inside a poll.
        #[cfg(not(target_arch = "wasm32"))]
        let _ = self.device.poll(wgpu::PollType::Poll);
        let read = |slot: &Mutex<Option<String>>| slot.lock().ok().and_then(|s| s.clone());
        match read(&self.lost).or_else(|| read(&self.failure)) {
            // wgpu's messages span lines ("Validation Error\n\nCaused by: …"); ours take one.
            Some(message) => Err(GpuError::Lost(
                message.split_whitespace().collect::<Vec<_>>().join(" "),
            )),
            None => Ok(()),
        }
    }

    /// The device's recorded failure (it says why: "the device was destroyed"), else `error`.
    fn failure_or(&self, error: impl fmt::Display) -> GpuError {
        self.check()
            .err()
            .unwrap_or_else(|| GpuError::Lost(error.to_string()))
    }

    /// [`GpuContext::new`], blocking (native only; the browser must await).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_blocking() -> Result<Self, GpuError> {
        pollster::block_on(Self::new())
    }

    /// "llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan, Cpu)": what ran the shaders.
    pub fn describe(&self) -> String {
        let name = match (self.adapter.name.trim(), self.adapter.driver.trim()) {
            ("", "") => "unnamed adapter",
            ("", driver) => driver,
            (name, _) => name,
        };
        format!(
            "{name} ({:?}, {:?})",
            self.adapter.backend, self.adapter.device_type
        )
    }

    /// Compiles a composed WGSL program into a compute pipeline with its entry point.
    pub fn pipeline(&self, label: &str, source: &str, entry_point: &str) -> wgpu::ComputePipeline {
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
        self.device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: None,
                module: &module,
                entry_point: Some(entry_point),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                cache: None,
            })
    }

    /// A read-only storage buffer holding `bytes`. Bindings may not be empty, so an empty array
    /// still gets one (unused) word.
    pub fn storage_buffer(&self, label: &str, bytes: &[u8]) -> wgpu::Buffer {
        self.upload(label, bytes, wgpu::BufferUsages::STORAGE)
    }

    /// A uniform buffer holding `bytes`, padded to WGSL's 16-byte uniform alignment.
    pub fn uniform_buffer(&self, label: &str, bytes: &[u8]) -> wgpu::Buffer {
        let mut padded = bytes.to_vec();
        padded.resize(bytes.len().div_ceil(16).max(1) * 16, 0);
        self.upload(label, &padded, wgpu::BufferUsages::UNIFORM)
    }

    /// A buffer filled through the queue. Not `create_buffer_init`: it maps the buffer at
    /// creation and panics when the device is already lost; a queued write instead records the
    /// failure, which the run then reports.
    fn upload(&self, label: &str, bytes: &[u8], usage: wgpu::BufferUsages) -> wgpu::Buffer {
        let contents: &[u8] = if bytes.is_empty() { &[0; 8] } else { bytes };
        let size = (contents.len() as u64).div_ceil(wgpu::COPY_BUFFER_ALIGNMENT)
            * wgpu::COPY_BUFFER_ALIGNMENT;
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage: usage | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        if size == contents.len() as u64 {
            self.queue.write_buffer(&buffer, 0, contents);
        } else {
            let mut padded = contents.to_vec();
            padded.resize(size as usize, 0);
            self.queue.write_buffer(&buffer, 0, &padded);
        }
        buffer
    }

    /// A storage buffer of `size` bytes (at least one word) that a kernel writes and
    /// [`GpuContext::run`] reads back.
    pub fn output_buffer(&self, label: &str, size: usize) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size.max(8) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        })
    }

    /// Binds `inputs` then `output` as bindings 0, 1, …, runs one invocation of `pipeline` per
    /// item, and returns `output`'s bytes. Items go to workgroups of 64 laid out in a grid that
    /// wraps into a second dimension past the device's per-dimension limit (a dense 4096-uid
    /// subnet has 16.7 M liquid-alpha cells, 4× what one dimension holds); kernels find their
    /// item with `item_index` (fixed.wgsl) and skip the padding at the end.
    pub async fn run(
        &self,
        pipeline: &wgpu::ComputePipeline,
        inputs: &[&wgpu::Buffer],
        output: &wgpu::Buffer,
        invocations: usize,
    ) -> Result<Vec<u8>, GpuError> {
        self.check()?;
        let (x, y) = workgroup_grid(invocations, self.max_workgroups_x).ok_or_else(|| {
            GpuError::Device(format!(
                "{invocations} items are more than one dispatch can hold"
            ))
        })?;
        let entries: Vec<wgpu::BindGroupEntry> = inputs
            .iter()
            .chain(std::iter::once(&output))
            .enumerate()
            .map(|(binding, buffer)| wgpu::BindGroupEntry {
                binding: binding as u32,
                resource: buffer.as_entire_binding(),
            })
            .collect();
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(x, y, 1);
        }
        self.queue.submit([encoder.finish()]);
        self.read_back(output).await
    }

    /// Copies `buffer` (COPY_SRC) back to the CPU once the queue has run.
    pub async fn read_back(&self, buffer: &wgpu::Buffer) -> Result<Vec<u8>, GpuError> {
        let size = buffer.size();
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("read back"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, size);
        self.queue.submit([encoder.finish()]);
        let (sender, receiver) = futures_channel();
        staging.map_async(wgpu::MapMode::Read, .., move |result| sender.send(result));
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| self.failure_or(e))?;
        receiver.await.map_err(|e| self.failure_or(e))?;
        let bytes = staging
            .get_mapped_range(..)
            .map_err(|e| self.failure_or(e))?
            .to_vec();
        staging.unmap();
        self.check()?;
        Ok(bytes)
    }
}

/// Workgroups (x, y) of 64 invocations covering `items`, with x at most `max_x`; `None` when
/// even `max_x` × `max_x` workgroups are too few.
pub fn workgroup_grid(items: usize, max_x: u32) -> Option<(u32, u32)> {
    let groups = items.div_ceil(64).max(1);
    let max_x = usize::try_from(max_x.max(1)).ok()?;
    let x = groups.min(max_x);
    let y = groups.div_ceil(x);
    (y <= max_x).then_some((u32::try_from(x).ok()?, u32::try_from(y).ok()?))
}

/// A one-shot channel for the map callback, awaitable on both targets without a runtime:
/// natively the device poll above has already run the callback; in the browser the callback
/// runs from the event loop and wakes the waiting task.
fn futures_channel() -> (OneShotSender, OneShotReceiver) {
    let slot = Arc::new(Mutex::new(Slot {
        result: None,
        waker: None,
    }));
    (OneShotSender(slot.clone()), OneShotReceiver(slot))
}

type MapResult = Result<(), wgpu::BufferAsyncError>;

struct Slot {
    result: Option<MapResult>,
    waker: Option<Waker>,
}

struct OneShotSender(Arc<Mutex<Slot>>);
struct OneShotReceiver(Arc<Mutex<Slot>>);

impl OneShotSender {
    fn send(self, result: MapResult) {
        if let Ok(mut slot) = self.0.lock() {
            slot.result = Some(result);
            if let Some(waker) = slot.waker.take() {
                waker.wake();
            }
        }
    }
}

impl Future for OneShotReceiver {
    type Output = MapResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MapResult> {
        let Ok(mut slot) = self.0.lock() else {
            return Poll::Ready(Err(wgpu::BufferAsyncError));
        };
        match slot.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::workgroup_grid;

    #[test]
    fn the_grid_covers_every_item_within_the_limit() {
        assert_eq!(workgroup_grid(0, 65_535), Some((1, 1)));
        assert_eq!(workgroup_grid(64, 65_535), Some((1, 1)));
        assert_eq!(workgroup_grid(65, 65_535), Some((2, 1)));
        // A dense 4096-uid subnet's liquid-alpha cells: 262 144 workgroups.
        assert_eq!(workgroup_grid(4096 * 4096, 65_535), Some((65_535, 5)));
        for (items, max_x) in [(500usize, 3u32), (3_000, 7), (64 * 9, 3), (1, 1)] {
            let (x, y) = workgroup_grid(items, max_x).unwrap_or((0, 0));
            assert!(
                x <= max_x && y <= max_x,
                "{items} items, limit {max_x}: {x}x{y}"
            );
            assert!(
                u64::from(x) * u64::from(y) * 64 >= items as u64,
                "{items} items not covered by {x}x{y}"
            );
        }
        assert_eq!(workgroup_grid(64 * 9 + 1, 3), None);
    }
}
