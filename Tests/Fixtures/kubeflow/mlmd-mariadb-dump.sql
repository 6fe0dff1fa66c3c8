/*M!999999\- enable the sandbox mode */ 
-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)
--
-- Host: localhost    Database: metadb
-- ------------------------------------------------------
-- Server version	10.11.19-MariaDB-0+deb12u1

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;

--
-- Table structure for table `Artifact`
--

DROP TABLE IF EXISTS `Artifact`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `Artifact` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `type_id` int(11) NOT NULL,
  `uri` text DEFAULT NULL,
  `state` int(11) DEFAULT NULL,
  `name` varchar(255) DEFAULT NULL,
  `external_id` varchar(255) DEFAULT NULL,
  `create_time_since_epoch` bigint(20) NOT NULL DEFAULT 0,
  `last_update_time_since_epoch` bigint(20) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  UNIQUE KEY `external_id` (`external_id`),
  UNIQUE KEY `UniqueArtifactTypeName` (`type_id`,`name`),
  KEY `idx_artifact_uri` (`uri`(255)),
  KEY `idx_artifact_create_time_since_epoch` (`create_time_since_epoch`),
  KEY `idx_artifact_last_update_time_since_epoch` (`last_update_time_since_epoch`),
  KEY `idx_artifact_external_id` (`external_id`)
) ENGINE=InnoDB AUTO_INCREMENT=4 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `Artifact`
--

LOCK TABLES `Artifact` WRITE;
/*!40000 ALTER TABLE `Artifact` DISABLE KEYS */;
INSERT INTO `Artifact` VALUES
(1,10,'/data/train.csv',2,'train-data',NULL,1796683037656,1796683037656),
(2,11,'/models/model-v1',2,'model-v1',NULL,1796683037659,1796683037659),
(3,11,'/models/model-v2',2,'model-v2',NULL,1796683037663,1796683037663);
/*!40000 ALTER TABLE `Artifact` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `ArtifactProperty`
--

DROP TABLE IF EXISTS `ArtifactProperty`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `ArtifactProperty` (
  `artifact_id` int(11) NOT NULL,
  `name` varchar(255) NOT NULL,
  `is_custom_property` tinyint(1) NOT NULL,
  `int_value` int(11) DEFAULT NULL,
  `double_value` double DEFAULT NULL,
  `string_value` mediumtext DEFAULT NULL,
  `byte_value` mediumblob DEFAULT NULL,
  `proto_value` mediumblob DEFAULT NULL,
  `bool_value` tinyint(1) DEFAULT NULL,
  PRIMARY KEY (`artifact_id`,`name`,`is_custom_property`),
  KEY `idx_artifact_property_int` (`name`,`is_custom_property`,`int_value`),
  KEY `idx_artifact_property_double` (`name`,`is_custom_property`,`double_value`),
  KEY `idx_artifact_property_string` (`name`,`is_custom_property`,`string_value`(255))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `ArtifactProperty`
--

LOCK TABLES `ArtifactProperty` WRITE;
/*!40000 ALTER TABLE `ArtifactProperty` DISABLE KEYS */;
INSERT INTO `ArtifactProperty` VALUES
(1,'digest',1,NULL,NULL,'sha256:d1a204d054632471fea3ed96e764a9e70402f69ff2818394a182a8d73bf64a4e',NULL,NULL,NULL),
(1,'version',0,NULL,NULL,'1',NULL,NULL,NULL),
(2,'accuracy',1,NULL,0.91,NULL,NULL,NULL,NULL),
(2,'framework',1,NULL,NULL,'none',NULL,NULL,NULL),
(2,'version',0,NULL,NULL,'v1',NULL,NULL,NULL),
(3,'accuracy',1,NULL,0.93,NULL,NULL,NULL,NULL),
(3,'epochs_total',1,4,NULL,NULL,NULL,NULL,NULL),
(3,'note',1,NULL,NULL,'it\'s \"v2\"\nfrom C:\\tmp cafÃ©',NULL,NULL,NULL),
(3,'version',0,NULL,NULL,'v2',NULL,NULL,NULL);
/*!40000 ALTER TABLE `ArtifactProperty` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `Association`
--

DROP TABLE IF EXISTS `Association`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `Association` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `context_id` int(11) NOT NULL,
  `execution_id` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `context_id` (`context_id`,`execution_id`)
) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `Association`
--

LOCK TABLES `Association` WRITE;
/*!40000 ALTER TABLE `Association` DISABLE KEYS */;
INSERT INTO `Association` VALUES
(1,2,1),
(2,2,2);
/*!40000 ALTER TABLE `Association` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `Attribution`
--

DROP TABLE IF EXISTS `Attribution`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `Attribution` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `context_id` int(11) NOT NULL,
  `artifact_id` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `context_id` (`context_id`,`artifact_id`)
) ENGINE=InnoDB AUTO_INCREMENT=4 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `Attribution`
--

LOCK TABLES `Attribution` WRITE;
/*!40000 ALTER TABLE `Attribution` DISABLE KEYS */;
INSERT INTO `Attribution` VALUES
(1,2,1),
(2,2,2),
(3,2,3);
/*!40000 ALTER TABLE `Attribution` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `Context`
--

DROP TABLE IF EXISTS `Context`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `Context` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `type_id` int(11) NOT NULL,
  `name` varchar(255) NOT NULL,
  `external_id` varchar(255) DEFAULT NULL,
  `create_time_since_epoch` bigint(20) NOT NULL DEFAULT 0,
  `last_update_time_since_epoch` bigint(20) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  UNIQUE KEY `type_id` (`type_id`,`name`),
  UNIQUE KEY `external_id` (`external_id`),
  KEY `idx_context_create_time_since_epoch` (`create_time_since_epoch`),
  KEY `idx_context_last_update_time_since_epoch` (`last_update_time_since_epoch`),
  KEY `idx_context_external_id` (`external_id`)
) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `Context`
--

LOCK TABLES `Context` WRITE;
/*!40000 ALTER TABLE `Context` DISABLE KEYS */;
INSERT INTO `Context` VALUES
(1,13,'tiny-train',NULL,1796683037657,1796683037657),
(2,14,'pipeline-run-1',NULL,1796683037657,1796683037657);
/*!40000 ALTER TABLE `Context` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `ContextProperty`
--

DROP TABLE IF EXISTS `ContextProperty`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `ContextProperty` (
  `context_id` int(11) NOT NULL,
  `name` varchar(255) NOT NULL,
  `is_custom_property` tinyint(1) NOT NULL,
  `int_value` int(11) DEFAULT NULL,
  `double_value` double DEFAULT NULL,
  `string_value` mediumtext DEFAULT NULL,
  `byte_value` mediumblob DEFAULT NULL,
  `proto_value` mediumblob DEFAULT NULL,
  `bool_value` tinyint(1) DEFAULT NULL,
  PRIMARY KEY (`context_id`,`name`,`is_custom_property`),
  KEY `idx_context_property_int` (`name`,`is_custom_property`,`int_value`),
  KEY `idx_context_property_double` (`name`,`is_custom_property`,`double_value`),
  KEY `idx_context_property_string` (`name`,`is_custom_property`,`string_value`(255))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `ContextProperty`
--

LOCK TABLES `ContextProperty` WRITE;
/*!40000 ALTER TABLE `ContextProperty` DISABLE KEYS */;
INSERT INTO `ContextProperty` VALUES
(2,'pipeline_name',1,NULL,NULL,'tiny-train',NULL,NULL,NULL);
/*!40000 ALTER TABLE `ContextProperty` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `Event`
--

DROP TABLE IF EXISTS `Event`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `Event` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `artifact_id` int(11) NOT NULL,
  `execution_id` int(11) NOT NULL,
  `type` int(11) NOT NULL,
  `milliseconds_since_epoch` bigint(20) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `UniqueEvent` (`artifact_id`,`execution_id`,`type`),
  KEY `idx_event_execution_id` (`execution_id`)
) ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `Event`
--

LOCK TABLES `Event` WRITE;
/*!40000 ALTER TABLE `Event` DISABLE KEYS */;
INSERT INTO `Event` VALUES
(1,1,1,3,1796683037662),
(2,2,1,4,1796683037662),
(3,2,2,3,1796683037666),
(4,3,2,4,1796683037666);
/*!40000 ALTER TABLE `Event` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `EventPath`
--

DROP TABLE IF EXISTS `EventPath`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `EventPath` (
  `event_id` int(11) NOT NULL,
  `is_index_step` tinyint(1) NOT NULL,
  `step_index` int(11) DEFAULT NULL,
  `step_key` text DEFAULT NULL,
  KEY `idx_eventpath_event_id` (`event_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `EventPath`
--

LOCK TABLES `EventPath` WRITE;
/*!40000 ALTER TABLE `EventPath` DISABLE KEYS */;
INSERT INTO `EventPath` VALUES
(1,0,NULL,'data'),
(2,0,NULL,'model'),
(3,0,NULL,'base_model'),
(4,0,NULL,'model');
/*!40000 ALTER TABLE `EventPath` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `Execution`
--

DROP TABLE IF EXISTS `Execution`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `Execution` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `type_id` int(11) NOT NULL,
  `last_known_state` int(11) DEFAULT NULL,
  `name` varchar(255) DEFAULT NULL,
  `external_id` varchar(255) DEFAULT NULL,
  `create_time_since_epoch` bigint(20) NOT NULL DEFAULT 0,
  `last_update_time_since_epoch` bigint(20) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  UNIQUE KEY `external_id` (`external_id`),
  UNIQUE KEY `UniqueExecutionTypeName` (`type_id`,`name`),
  KEY `idx_execution_create_time_since_epoch` (`create_time_since_epoch`),
  KEY `idx_execution_last_update_time_since_epoch` (`last_update_time_since_epoch`),
  KEY `idx_execution_external_id` (`external_id`)
) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `Execution`
--

LOCK TABLES `Execution` WRITE;
/*!40000 ALTER TABLE `Execution` DISABLE KEYS */;
INSERT INTO `Execution` VALUES
(1,12,3,'train-1',NULL,1796683037660,1796683037660),
(2,12,3,'finetune-1',NULL,1796683037664,1796683037664);
/*!40000 ALTER TABLE `Execution` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `ExecutionProperty`
--

DROP TABLE IF EXISTS `ExecutionProperty`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `ExecutionProperty` (
  `execution_id` int(11) NOT NULL,
  `name` varchar(255) NOT NULL,
  `is_custom_property` tinyint(1) NOT NULL,
  `int_value` int(11) DEFAULT NULL,
  `double_value` double DEFAULT NULL,
  `string_value` mediumtext DEFAULT NULL,
  `byte_value` mediumblob DEFAULT NULL,
  `proto_value` mediumblob DEFAULT NULL,
  `bool_value` tinyint(1) DEFAULT NULL,
  PRIMARY KEY (`execution_id`,`name`,`is_custom_property`),
  KEY `idx_execution_property_int` (`name`,`is_custom_property`,`int_value`),
  KEY `idx_execution_property_double` (`name`,`is_custom_property`,`double_value`),
  KEY `idx_execution_property_string` (`name`,`is_custom_property`,`string_value`(255))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `ExecutionProperty`
--

LOCK TABLES `ExecutionProperty` WRITE;
/*!40000 ALTER TABLE `ExecutionProperty` DISABLE KEYS */;
INSERT INTO `ExecutionProperty` VALUES
(1,'dirty',1,NULL,NULL,NULL,NULL,NULL,0),
(1,'epochs',0,3,NULL,NULL,NULL,NULL,NULL),
(1,'git_commit',1,NULL,NULL,'3f2c1a9e',NULL,NULL,NULL),
(1,'inputs',1,NULL,NULL,'mlmd-struct::ChMKBmVwb2NocxIJEQAAAAAAAAhACg8KAmxyEgkRmpmZmZmZuT8=',NULL,NULL,NULL),
(1,'lr',0,NULL,0.1,NULL,NULL,NULL,NULL),
(2,'epochs',0,1,NULL,NULL,NULL,NULL,NULL),
(2,'git_commit',1,NULL,NULL,'3f2c1a9e',NULL,NULL,NULL),
(2,'lr',0,NULL,0.01,NULL,NULL,NULL,NULL);
/*!40000 ALTER TABLE `ExecutionProperty` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `MLMDEnv`
--

DROP TABLE IF EXISTS `MLMDEnv`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `MLMDEnv` (
  `schema_version` int(11) NOT NULL,
  PRIMARY KEY (`schema_version`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `MLMDEnv`
--

LOCK TABLES `MLMDEnv` WRITE;
/*!40000 ALTER TABLE `MLMDEnv` DISABLE KEYS */;
INSERT INTO `MLMDEnv` VALUES
(10);
/*!40000 ALTER TABLE `MLMDEnv` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `ParentContext`
--

DROP TABLE IF EXISTS `ParentContext`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `ParentContext` (
  `context_id` int(11) NOT NULL,
  `parent_context_id` int(11) NOT NULL,
  PRIMARY KEY (`context_id`,`parent_context_id`),
  KEY `idx_parentcontext_parent_context_id` (`parent_context_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `ParentContext`
--

LOCK TABLES `ParentContext` WRITE;
/*!40000 ALTER TABLE `ParentContext` DISABLE KEYS */;
INSERT INTO `ParentContext` VALUES
(2,1);
/*!40000 ALTER TABLE `ParentContext` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `ParentType`
--

DROP TABLE IF EXISTS `ParentType`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `ParentType` (
  `type_id` int(11) NOT NULL,
  `parent_type_id` int(11) NOT NULL,
  PRIMARY KEY (`type_id`,`parent_type_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `ParentType`
--

LOCK TABLES `ParentType` WRITE;
/*!40000 ALTER TABLE `ParentType` DISABLE KEYS */;
/*!40000 ALTER TABLE `ParentType` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `Type`
--

DROP TABLE IF EXISTS `Type`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `Type` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(255) NOT NULL,
  `version` varchar(255) DEFAULT NULL,
  `type_kind` tinyint(1) NOT NULL,
  `description` text DEFAULT NULL,
  `input_type` text DEFAULT NULL,
  `output_type` text DEFAULT NULL,
  `external_id` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `external_id` (`external_id`),
  KEY `idx_type_name` (`name`),
  KEY `idx_type_external_id` (`external_id`)
) ENGINE=InnoDB AUTO_INCREMENT=15 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `Type`
--

LOCK TABLES `Type` WRITE;
/*!40000 ALTER TABLE `Type` DISABLE KEYS */;
INSERT INTO `Type` VALUES
(1,'mlmd.Dataset',NULL,1,NULL,NULL,NULL,NULL),
(2,'mlmd.Model',NULL,1,NULL,NULL,NULL,NULL),
(3,'mlmd.Metrics',NULL,1,NULL,NULL,NULL,NULL),
(4,'mlmd.Statistics',NULL,1,NULL,NULL,NULL,NULL),
(5,'mlmd.Train',NULL,0,NULL,NULL,NULL,NULL),
(6,'mlmd.Transform',NULL,0,NULL,NULL,NULL,NULL),
(7,'mlmd.Process',NULL,0,NULL,NULL,NULL,NULL),
(8,'mlmd.Evaluate',NULL,0,NULL,NULL,NULL,NULL),
(9,'mlmd.Deploy',NULL,0,NULL,NULL,NULL,NULL),
(10,'Dataset',NULL,1,NULL,NULL,NULL,NULL),
(11,'Model',NULL,1,NULL,NULL,NULL,NULL),
(12,'Trainer',NULL,0,NULL,NULL,NULL,NULL),
(13,'Pipeline',NULL,2,NULL,NULL,NULL,NULL),
(14,'PipelineRun',NULL,2,NULL,NULL,NULL,NULL);
/*!40000 ALTER TABLE `Type` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `TypeProperty`
--

DROP TABLE IF EXISTS `TypeProperty`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `TypeProperty` (
  `type_id` int(11) NOT NULL,
  `name` varchar(255) NOT NULL,
  `data_type` int(11) DEFAULT NULL,
  PRIMARY KEY (`type_id`,`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `TypeProperty`
--

LOCK TABLES `TypeProperty` WRITE;
/*!40000 ALTER TABLE `TypeProperty` DISABLE KEYS */;
INSERT INTO `TypeProperty` VALUES
(10,'version',3),
(11,'version',3),
(12,'epochs',1),
(12,'lr',2);
/*!40000 ALTER TABLE `TypeProperty` ENABLE KEYS */;
UNLOCK TABLES;
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;

-- Dump completed on 2026-12-07 22:37:17
