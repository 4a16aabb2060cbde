//! What WebGPU adapter this browser offers, read through the JS API by name.
//!
//! Reflection rather than web-sys's WebGPU bindings: those need `--cfg web_sys_unstable_apis`
//! for every crate in the build, and a probe only needs a handful of properties.

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The limits that bound what a compute pass can do, in the order the page shows them.
pub const COMPUTE_LIMITS: [&str; 9] = [
    "maxComputeWorkgroupSizeX",
    "maxComputeInvocationsPerWorkgroup",
    "maxComputeWorkgroupStorageSize",
    "maxComputeWorkgroupsPerDimension",
    "maxStorageBuffersPerShaderStage",
    "maxStorageBufferBindingSize",
    "maxBufferSize",
    "maxBindGroups",
    "minStorageBufferOffsetAlignment",
];

#[derive(Clone, Debug, PartialEq)]
pub struct AdapterReport {
    pub vendor: String,
    pub architecture: String,
    pub device: String,
    pub description: String,
    /// `None` when the browser does not say.
    pub is_fallback: Option<bool>,
    pub limits: Vec<(&'static str, Option<f64>)>,
    pub features: Vec<String>,
}

impl AdapterReport {
    /// A one-line name: the description if given, else vendor and architecture.
    /// "google swiftshader (fallback adapter)": the adapter in a few words.
    pub fn label(&self) -> String {
        let name = self.name();
        let architecture = if self.architecture.is_empty() || name.contains(&self.architecture) {
            String::new()
        } else {
            format!(" {}", self.architecture)
        };
        let fallback = if self.is_fallback == Some(true) {
            " (fallback adapter)"
        } else {
            ""
        };
        format!("{name}{architecture}{fallback}")
    }

    pub fn name(&self) -> String {
        if !self.description.is_empty() {
            return self.description.clone();
        }
        let parts: Vec<&str> = [
            self.vendor.as_str(),
            self.architecture.as_str(),
            self.device.as_str(),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
        if parts.is_empty() {
            "unnamed adapter".into()
        } else {
            parts.join(" ")
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum GpuStatus {
    /// The browser has no WebGPU API at all.
    Unsupported(String),
    /// WebGPU exists but offered no adapter.
    NoAdapter(String),
    Adapter(AdapterReport),
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn get_string(target: &JsValue, key: &str) -> String {
    get(target, key).as_string().unwrap_or_default()
}

/// Asks the browser for its default WebGPU adapter and describes it (in a page or a worker).
pub async fn probe() -> GpuStatus {
    // The page's `window` and a worker's global scope both have `navigator.gpu`.
    let global: JsValue = js_sys::global().into();
    let gpu = get(&get(&global, "navigator"), "gpu");
    if gpu.is_undefined() || gpu.is_null() {
        let secure = get(&global, "isSecureContext").as_bool().unwrap_or(false);
        let why = if secure {
            "This browser does not offer WebGPU (navigator.gpu is missing). Chromium-based browsers \
             have it; headless Chromium needs --enable-unsafe-webgpu. Epochs run on the CPU engine."
        } else {
            "WebGPU needs a secure context: open taoscope over https or from 127.0.0.1/localhost. \
             Epochs run on the CPU engine."
        };
        return GpuStatus::Unsupported(why.into());
    }
    let Ok(request) = get(&gpu, "requestAdapter").dyn_into::<Function>() else {
        return GpuStatus::Unsupported(
            "navigator.gpu.requestAdapter is not a function in this browser".into(),
        );
    };
    let promise = match request.call0(&gpu).map(|p| p.dyn_into::<Promise>()) {
        Ok(Ok(p)) => p,
        _ => return GpuStatus::NoAdapter("requestAdapter() did not return a promise".into()),
    };
    let adapter = match JsFuture::from(promise).await {
        Ok(a) if !a.is_null() && !a.is_undefined() => a,
        Ok(_) => {
            return GpuStatus::NoAdapter(
                "WebGPU is present but offered no adapter (blocklisted driver or disabled GPU). \
                 Epochs run on the CPU engine."
                    .into(),
            );
        }
        Err(e) => {
            return GpuStatus::NoAdapter(format!("requestAdapter() failed: {}", describe(&e)));
        }
    };
    let info = get(&adapter, "info");
    let fallback_in_info = get(&info, "isFallbackAdapter").as_bool();
    let is_fallback = fallback_in_info.or_else(|| get(&adapter, "isFallbackAdapter").as_bool());
    let limits_obj = get(&adapter, "limits");
    let limits = COMPUTE_LIMITS
        .iter()
        .map(|&name| (name, get(&limits_obj, name).as_f64()))
        .collect();
    let mut features: Vec<String> = Array::from(&get(&adapter, "features"))
        .iter()
        .filter_map(|f| f.as_string())
        .collect();
    features.sort();
    GpuStatus::Adapter(AdapterReport {
        vendor: get_string(&info, "vendor"),
        architecture: get_string(&info, "architecture"),
        device: get_string(&info, "device"),
        description: get_string(&info, "description"),
        is_fallback,
        limits,
        features,
    })
}

fn describe(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| get(e, "message").as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}
