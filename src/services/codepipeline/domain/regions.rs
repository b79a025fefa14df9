//! The AWS Regions a pipeline may name (artifact stores, cross-region actions). Region names are
//! data, not a pattern: AWS refuses `xx-fake-1` although it looks like one.

/// Commercial, China and GovCloud Regions, as AWS lists them in its Regions table (2026).
const AWS_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

pub fn is_aws_region(name: &str) -> bool {
    AWS_REGIONS.binary_search(&name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_knows_real_regions_only() {
        assert!(AWS_REGIONS.windows(2).all(|w| w[0] < w[1]));
        assert!(is_aws_region("eu-west-1"));
        assert!(!is_aws_region("xx-fake-1"));
    }
}
